#!/usr/bin/env bash
# `vnet serve` as an IKEv2 remote-access server: bench_serve --ikev2 --ike-only opens
# BENCH_IKEV2_TUNNELS clients (1,000 by default), each an IKE_SA_INIT and an IKE_AUTH with
# EAP-MSCHAPv2 by the engine's initiator (engine/ike/ikev2_init.h), the server proving
# itself with a pre-shared key, an address from the pool and one tunnel child. Once per DH
# group (ECP 256, MODP 2048), beside `openssl speed` of the same group: the ratio
# "IKE_SA_INIT + IKE_AUTH set-ups per second of the server's CPU / DH operations per
# second" against the goal of 0.8. openssl speed's operation is one agreement on fixed
# keys; a set-up costs the server a key pair as well, so even a set-up that cost nothing
# else would stay below 1: bench_ike_dh (when built) measures that ceiling with the
# server's own code, and it is printed with the share of the server's CPU the rest of the
# set-up takes (EAP-MSCHAPv2, the policy engine, prf+, the messages).
#
# The pre-shared key stands for the server's certificate in the rate: with a certificate
# every set-up adds an RSA-2048 signature on the server (about 1,000-2,000 per second of
# one core, `openssl speed rsa2048`), which would dominate what is measured here.
# With each group the server's resident memory per SA up (IKE SA, session and ESP).
# Then one run of 100 clients with a ping each through its child's ESP.
#
#   bench/serve-ikev2.sh BUILD_DIR
#
# Skips (exit 0, with a message) while `vnet serve` does not accept serve.ikev2.
set -euo pipefail
build=${1:?usage: bench/serve-ikev2.sh BUILD_DIR}
gen=$build/bench_serve vnet=$build/vnet
tunnels=${BENCH_IKEV2_TUNNELS:-1000}
for f in "$gen" "$vnet"; do
  [ -x "$f" ] || { echo "bench/serve-ikev2.sh: $f not built" >&2; exit 1; }
done
w=$(mktemp -d "${TMPDIR:-/tmp}/vnet-serve-ikev2.XXXXXX")
trap 'rm -rf "$w"' EXIT
printf '{"serve":{"ikev2":{"auth":"psk","psk":"probe","ike_port":15600,"natt_port":14600,"listen":"127.0.0.1"}}}\n' \
  > "$w/probe.json"
probe=$("$vnet" policy check --config "$w/probe.json" 2>&1 || true)
if grep -q 'serve.ikev2.*unknown key' <<<"$probe"; then
  echo "bench/serve-ikev2.sh: skipped: this vnet serve does not accept serve.ikev2"
  exit 0
fi
command -v openssl >/dev/null || { echo "bench/serve-ikev2.sh: openssl not installed" >&2; exit 1; }

# group name in the proposal syntax, openssl speed's algorithm, the line it prints
groups=("ecp256 ecdhp256 ecdh (nistp256)" "modp2048 ffdh2048 2048 bits ffdh")
printf '%-34s %12s %12s %8s\n' name ours goal ratio
status=0
for g in "${groups[@]}"; do
  read -r group alg pattern <<<"$g"
  dh=$(openssl speed -seconds 3 "$alg" 2>/dev/null | grep -F "$pattern" | awk '{print $NF}' | tail -n 1)
  [ -n "$dh" ] || { echo "bench/serve-ikev2.sh: openssl speed $alg printed no rate" >&2; exit 1; }
  args=(--ikev2 --vnet "$vnet" --psk bench-psk --ike-port 15600 --natt-port 14600
        --ike "aes128-sha256-$group" --esp aes128gcm16 --tunnels "$tunnels" --window 64
        --quiet --workdir "$w/$group" --ike-only)
  rc=0
  "$gen" "${args[@]}" > "$w/$group.out" 2>&1 || rc=$?
  line=$(grep '^result-ikev2:' "$w/$group.out" || true)
  rate=$(sed -n 's/.* cpu_rate=\([0-9]*\).*/\1/p' <<<"$line")
  wall=$(sed -n 's/.* rate=\([0-9]*\).*/\1/p' <<<"$line")
  up=$(sed -n 's/.* up=\([0-9]*\).*/\1/p' <<<"$line")
  mem=$(sed -n 's/.* rss_kib_per_sa=\([0-9.]*\).*/\1/p' <<<"$line")
  if [ "$rc" != 0 ] || [ -z "$rate" ]; then
    echo "bench/serve-ikev2.sh: $group: the generator failed (exit $rc):" >&2
    tail -n 8 "$w/$group.out" >&2
    status=1
    continue
  fi
  ratio=$(awk -v a="$rate" -v b="$dh" 'BEGIN { printf "%.2f", a / b }')
  printf '%-34s %12s %12s %8s\n' "ikev2-setups-per-cpu-s-$group" "$rate/s" ">=0.8x$dh/s" \
    "$(awk -v r="$ratio" 'BEGIN { printf "%.2f", r / 0.8 }')"
  echo "  $group: $up of $tunnels clients up; $wall set-ups/s of wall time;" \
       "openssl speed $alg: $dh op/s; IKE_SA_INIT+IKE_AUTH set-ups per server CPU second / DH op/s = $ratio"
  [ -n "$mem" ] && echo "  $group: server memory ${mem} KiB per SA up (resident, SA, session and ESP)"
  if [ -x "$build/bench_ike_dh" ]; then
    mm=$("$build/bench_ike_dh" "$group" | awk -v g="$group" '$1 == g { print $2 }')
    [ -n "$mm" ] && echo "  $group: the Diffie-Hellman of a set-up alone (key pair +" \
      "agreement): $mm/s = $(awk -v a="$mm" -v b="$dh" 'BEGIN { printf "%.2f", a / b }') x" \
      "openssl speed (the ceiling of the ratio); the rest of a set-up takes" \
      "$(awk -v r="$rate" -v m="$mm" 'BEGIN { printf "%.0f", 100 * (1 - r / m) }') % of the server's CPU"
  fi
done
# the clients with their data: a ping each through the child's ESP
rc=0
"$gen" --ikev2 --vnet "$vnet" --psk bench-psk --ike-port 15600 --natt-port 14600 \
  --tunnels 100 --window 32 --ping 1 --quiet --workdir "$w/ping" > "$w/ping.out" 2>&1 || rc=$?
grep -E '^(ikev2:|data:)' "$w/ping.out" || true
[ "$rc" = 0 ] || { echo "bench/serve-ikev2.sh: clients with pings: exit $rc" >&2;
                   tail -n 5 "$w/ping.out" >&2; status=1; }
exit $status
