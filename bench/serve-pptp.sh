#!/usr/bin/env bash
# `vnet serve` as a PPTP server: 5,000 PPTP sessions from bench_serve --pptp (one PNS per
# session: control connection, call, enhanced GRE, MS-CHAPv2, MPPE, one ping each), held
# 2 s. Prints set-ups per second (wall and per server CPU second) and memory per session
# against the goals. The raw GRE socket needs root: without it the run is skipped.
#
#   bench/serve-pptp.sh BUILD_DIR
set -euo pipefail
build=${1:?usage: bench/serve-pptp.sh BUILD_DIR}
gen=$build/bench_serve
if [ ! -x "$gen" ]; then
  echo "bench/serve-pptp.sh: $gen not built" >&2
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  echo "bench/serve-pptp.sh: skipped: PPTP needs root for its raw GRE socket"
  exit 0
fi
exec "$gen" --pptp --vnet "$build/vnet" --sessions 5000 --window 256 --ping 1 --hold 2000 --quiet
