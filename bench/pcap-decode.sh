#!/usr/bin/env bash
# Times `vnet pcap decode` against `tcpdump -nr` and `tshark -r` on one generated
# capture, in the same run: the one-line text, --json against `tshark -T json`, and -vv
# against `tcpdump -nvv`. Prints
#   name  ours  reference  ratio  goal   (packets per second; ratio = ours / reference)
# from CPU time (user + system: on a shared machine wall time mostly measures the
# others), then the same from wall time, and the peak resident memory of each (from
# /usr/bin/time -v). Output of every tool goes to /dev/null. The goals: decode at least
# 20 times tshark and 5 times tcpdump, --json 20 times `tshark -T json`, -vv at least
# as fast as `tcpdump -nvv`.
#
#   bench/pcap-decode.sh BUILD_DIR      (configured with -DVNET_BENCH=ON
#                                        -DCMAKE_BUILD_TYPE=Release)
# Environment: BENCH_PACKETS (default 1000000), BENCH_TSHARK_PACKETS (default: a tenth
# of them: tshark is timed on the first N packets with -c, and compared per packet).
set -euo pipefail
build=${1:?usage: bench/pcap-decode.sh BUILD_DIR}
vnet=$build/vnet
gen=$build/bench_pcap_gen
n=${BENCH_PACKETS:-1000000}
nt=${BENCH_TSHARK_PACKETS:-$((n / 10))}
if [ ! -x "$gen" ] || [ ! -x "$vnet" ]; then
  echo "pcap-decode: build $build with -DVNET_BENCH=ON first (needs vnet and bench_pcap_gen)" >&2
  exit 2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cap=$work/bench.pcap
"$gen" "$cap" "$n"

# run NAME CMD...: wall seconds and peak RSS (kB) of CMD, its stdout to /dev/null
run() {
  local name=$1; shift
  /usr/bin/time -v -o "$work/$name.time" "$@" >/dev/null 2>"$work/$name.err" || {
    echo "pcap-decode: $name failed:" >&2; tail -5 "$work/$name.err" >&2; exit 1; }
  local wall cpu rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {
           n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s }' \
         "$work/$name.time")
  cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {print s}' "$work/$name.time")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/$name.time")
  echo "$cpu $wall $rss"
}
rate() { awk -v n="$1" -v s="$2" 'BEGIN { if (s <= 0) s = 0.001; printf "%.0f", n / s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

read -r c_ours w_ours rss_ours < <(run vnet "$vnet" pcap decode "$cap")
read -r c_json w_json rss_json < <(run vnet-json "$vnet" --json pcap decode "$cap")
read -r c_vv w_vv rss_vv < <(run vnet-vv "$vnet" pcap decode -vv "$cap")
read -r c_tcpd w_tcpd rss_tcpd < <(run tcpdump tcpdump -nr "$cap")
read -r c_tvv w_tvv rss_tvv < <(run tcpdump-vv tcpdump -nvv -r "$cap")
have_tshark=0
if command -v tshark >/dev/null; then
  read -r c_tsh w_tsh rss_tsh < <(run tshark tshark -n -r "$cap" -c "$nt")
  read -r c_tsj w_tsj rss_tsj < <(run tshark-json tshark -n -r "$cap" -c "$nt" -T json)
  have_tshark=1
fi
echo "capture: $n packets, $(stat -c %s "$cap") bytes (IKE, NAT-T ESP, L2TP control+data/PPP, PPTP, GRE/PPP); tshark on the first $nt"
printf '%-30s %12s %12s %8s %6s\n' name ours reference ratio goal
line() { # name ours_n ours_s ref_n ref_s goal
  local a b
  a=$(rate "$2" "$3"); b=$(rate "$4" "$5")
  printf '%-30s %12s %12s %8s %6s\n' "$1" "$a" "$b" "$(ratio "$a" "$b")" ">=$6"
}
for m in cpu wall; do
  if [ $m = cpu ]; then o=$c_ours; j=$c_json; v=$c_vv; d=$c_tcpd; dv=$c_tvv; t=${c_tsh:-0}; tj=${c_tsj:-0}
  else o=$w_ours; j=$w_json; v=$w_vv; d=$w_tcpd; dv=$w_tvv; t=${w_tsh:-0}; tj=${w_tsj:-0}; fi
  line "decode-vs-tcpdump-pkt/s-$m" "$n" "$o" "$n" "$d" 5
  line "vv-vs-tcpdump-nvv-pkt/s-$m" "$n" "$v" "$n" "$dv" 1
  if [ $have_tshark = 1 ]; then
    line "decode-vs-tshark-pkt/s-$m" "$n" "$o" "$nt" "$t" 20
    line "json-vs-tshark-json-pkt/s-$m" "$n" "$j" "$nt" "$tj" 20
    line "json-vs-tshark-text-pkt/s-$m" "$n" "$j" "$nt" "$t" 1
  fi
done
printf '%-30s %12s %12s %8s\n' "peak-rss-kB-vs-tcpdump" "$rss_ours" "$rss_tcpd" "$(ratio "$rss_ours" "$rss_tcpd")"
if [ $have_tshark = 1 ]; then
  printf '%-30s %12s %12s %8s\n' "peak-rss-kB-vs-tshark" "$rss_ours" "$rss_tsh" "$(ratio "$rss_ours" "$rss_tsh")"
fi
printf '%-30s %12s\n' "peak-rss-kB-json" "$rss_json"
printf '%-30s %12s\n' "peak-rss-kB-vv" "$rss_vv"
exit 0
