#!/usr/bin/env bash
# `vnet serve` with several sessions per tunnel: 1,000 tunnels x 10 sessions from the
# load generator (bench_serve), beside the one session per tunnel (the shape of Windows
# clients) that bench_serve runs by default. Prints the same lines against the goals.
#
#   bench/serve.sh BUILD_DIR
set -euo pipefail
build=${1:?usage: bench/serve.sh BUILD_DIR}
gen=$build/bench_serve
if [ ! -x "$gen" ]; then
  echo "bench/serve.sh: $gen not built (configure with -DVNET_BENCH=ON)" >&2
  exit 1
fi
exec "$gen" --vnet "$build/vnet" --tunnels 1000 --sessions 10 --window 64
