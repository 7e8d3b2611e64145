#!/usr/bin/env bash
# `vnet serve` as an L2TP/IPsec server: bench_serve --ipsec opens BENCH_IPSEC_TUNNELS
# tunnels (1,000 by default), each an IKEv1 Main Mode with a pre-shared key and a Quick
# Mode (NAT-T forced, so ESP in UDP on an unprivileged port: no root). Per DH group
# (ECP 256, MODP 2048), beside `openssl speed` of the same group, with a fresh server key
# pair per exchange (the default) and again with serve.ipsec.dh_reuse=
# BENCH_IPSEC_DH_REUSE seconds (60 by default; 0 skips those lines), twice: with
# --mm-only, the goal's figure (mm-setups-...: a set-up is a Main Mode whose message 6
# the client verified, no Quick Mode), and with --ike-only (mmqm-setups-...: a Main Mode
# and the Quick Mode after it, up to the child SA). The ratio is "set-ups per second of
# the IKE end's CPU / DH operations per second" against the goal of 0.8.
# openssl speed's operation is one agreement (derive) on fixed
# keys; a Main Mode costs the server a key pair as well, so even a set-up that cost
# nothing else would stay below 1: bench_ike_dh (when built) measures that ceiling, the
# Diffie-Hellman of a Main Mode alone with the server's own code, and it is printed
# beside the ratio with the share of the server's CPU the rest of the set-up takes. Then
# once with L2TP and PPP inside the ESP: sessions up and set-ups per second.
#
#   bench/serve-ipsec.sh BUILD_DIR
#
# Skips (exit 0, with a message) while `vnet serve` does not accept serve.ipsec. With
# BENCH_IPSEC_GATEWAY=BUILD_DIR/ike_responder the IKE end is instead that test program
# (the engine's responder and ESP, relaying L2TP to a plain `vnet serve`), which measures
# the engine without the server's wiring.
set -euo pipefail
build=${1:?usage: bench/serve-ipsec.sh BUILD_DIR}
gen=$build/bench_serve vnet=$build/vnet
tunnels=${BENCH_IPSEC_TUNNELS:-1000}
reuse=${BENCH_IPSEC_DH_REUSE:-60}
gateway=${BENCH_IPSEC_GATEWAY:-}
for f in "$gen" "$vnet"; do
  [ -x "$f" ] || { echo "bench/serve-ipsec.sh: $f not built" >&2; exit 1; }
done
w=$(mktemp -d "${TMPDIR:-/tmp}/vnet-serve-ipsec.XXXXXX")
trap 'rm -rf "$w"' EXIT
if [ -z "$gateway" ]; then
  printf '{"serve":{"ipsec":{"psk":"probe","ike_port":15500,"natt_port":14500,"listen":"127.0.0.1"}}}\n' \
    > "$w/probe.json"
  probe=$("$vnet" policy check --config "$w/probe.json" 2>&1 || true)
  if grep -q 'serve.ipsec.*unknown key' <<<"$probe"; then
    echo "bench/serve-ipsec.sh: skipped: this vnet serve does not accept serve.ipsec (no IKE"
    echo "  in the server yet); BENCH_IPSEC_GATEWAY=$build/ike_responder measures the engine's"
    echo "  responder as a gateway in front of vnet serve instead"
    exit 0
  fi
fi
command -v openssl >/dev/null || { echo "bench/serve-ipsec.sh: openssl not installed" >&2; exit 1; }

# group name in the proposal syntax, openssl speed's algorithm, the line it prints
groups=("ecp256 ecdhp256 ecdh (nistp256)" "modp2048 ffdh2048 2048 bits ffdh")
# the second run per group with reused key pairs (a server option: not with a gateway)
reuses=(0)
[ "$reuse" != 0 ] && [ -z "$gateway" ] && reuses+=("$reuse")
printf '%-34s %12s %12s %8s\n' name ours goal ratio
status=0
for g in "${groups[@]}"; do
  read -r group alg pattern <<<"$g"
  dh=$(openssl speed -seconds 3 "$alg" 2>/dev/null | grep -F "$pattern" | awk '{print $NF}' | tail -n 1)
  [ -n "$dh" ] || { echo "bench/serve-ipsec.sh: openssl speed $alg printed no rate" >&2; exit 1; }
  ceil=$([ -x "$build/bench_ike_dh" ] && "$build/bench_ike_dh" "$group" |
         awk -v g="$group" '$1 == g { print $2, $5 }' || true)
  for r in "${reuses[@]}"; do
   for mode in mm mmqm; do
    name=$mode-setups-per-ike-cpu-s-$group tag=$group
    [ "$r" != 0 ] && { name=$name-dh-reuse; tag="$group with dh_reuse=$r"; }
    out=$w/$group-$r-$mode.out
    args=(--vnet "$vnet" --ipsec --psk bench-psk --ike-port 15500 --natt-port 14500
          --p1 "aes128-sha1-$group" --p2 aes128-sha1 --tunnels "$tunnels" --window 64 --quiet
          --workdir "$w/$group-$r-$mode")
    [ "$mode" = mm ] && args+=(--mm-only) || args+=(--ike-only)
    [ -n "$gateway" ] && args+=(--gateway "$gateway")
    [ "$r" != 0 ] && args+=(--dh-reuse "$r")
    rc=0
    "$gen" "${args[@]}" > "$out" 2>&1 || rc=$?
    line=$(grep '^result-ipsec:' "$out" || true)
    rate=$(sed -n 's/.* ike_cpu_rate=\([0-9]*\).*/\1/p' <<<"$line")
    wall=$(sed -n 's/.* ike_rate=\([0-9]*\).*/\1/p' <<<"$line")
    what="child SAs" key=child_up sa="Main Mode + Quick Mode"
    [ "$mode" = mm ] && { what="IKE SAs" key=ike_up sa="Main Mode alone"; }
    up=$(sed -n "s/.*$key=\\([0-9]*\\).*/\\1/p" <<<"$line")
    kib=$(sed -n 's/.* kib_per_session=\([0-9.]*\).*/\1/p' "$out")
    if [ "$rc" != 0 ] || [ -z "$rate" ]; then
      echo "bench/serve-ipsec.sh: $tag ($sa): the generator failed (exit $rc):" >&2
      tail -n 8 "$out" >&2
      status=1
      continue
    fi
    ratio=$(awk -v a="$rate" -v b="$dh" 'BEGIN { printf "%.2f", a / b }')
    printf '%-34s %12s %12s %8s\n' "$name" "$rate/s" ">=0.8x$dh/s" \
      "$(awk -v r="$ratio" 'BEGIN { printf "%.2f", r / 0.8 }')"
    echo "  $tag: $up of $tunnels $what up; $wall set-ups/s of wall time;" \
         "${kib:-?} KiB of the server's memory per SA; openssl speed $alg: $dh op/s;" \
         "set-ups ($sa) per IKE CPU second / DH op/s = $ratio"
    # the ceiling: the Diffie-Hellman of a Main Mode alone, a key pair + agreement per
    # exchange, or with a reused pair the agreement alone (bench_ike_dh's mm and reuse)
    mm=$(awk -v r="$r" '{ print (r == 0 ? $1 : $2) }' <<<"$ceil")
    [ -n "$mm" ] && [ "$mm" != - ] && echo "  $tag: the Diffie-Hellman of a Main Mode alone" \
      "($([ "$r" = 0 ] && echo "key pair + agreement" || echo "agreement, the pair reused")):" \
      "$mm/s = $(awk -v a="$mm" -v b="$dh" 'BEGIN { printf "%.2f", a / b }') x openssl speed" \
      "(the ceiling of the ratio); the rest of a set-up takes" \
      "$(awk -v r="$rate" -v m="$mm" 'BEGIN { printf "%.0f", 100 * (1 - r / m) }') % of the IKE end's CPU"
   done
  done
done
# the whole client: IKE, then L2TP and PPP in ESP
args=(--vnet "$vnet" --ipsec --psk bench-psk --ike-port 15500 --natt-port 14500
      --p1 aes128-sha1-ecp256 --p2 aes128-sha1 --tunnels "$tunnels" --window 64 --quiet
      --workdir "$w/sessions")
[ -n "$gateway" ] && args+=(--gateway "$gateway")
rc=0
"$gen" "${args[@]}" > "$w/sessions.out" 2>&1 || rc=$?
grep -E '^(ike-setups|concurrent-sessions|setups-per|ike:)' "$w/sessions.out" || true
[ "$rc" = 0 ] || { echo "bench/serve-ipsec.sh: L2TP/IPsec sessions: exit $rc" >&2;
                   tail -n 5 "$w/sessions.out" >&2; status=1; }
exit $status
