#!/usr/bin/env bash
# `vnet policy test` in batch: a configuration of 100 policies (group, NAS-Port-Type,
# regular expression and time conditions) and 10,000 users, and attempts as JSON lines
# (bench/gen-policy-batch.py). Prints, against the goals,
#   name  ours  goal  ratio            (ratio >= 1 meets the goal)
#   brief-json-attempts/s     `--brief --json`, 100,000 attempts, end to end
#   full-json-attempts/s      `--json` with the full trace, near misses and diagnoses
#   peak-rss-MB-*             peak resident memory for 100,000 and 1,000,000 attempts
# Rates are per second of CPU time (user + system) of the one vnet process, which runs
# on one core; the wall-clock rate follows in parentheses (lower when the machine is
# shared). Output goes to /dev/null.
#
#   bench/policy-batch.sh BUILD_DIR
# Environment: BENCH_ATTEMPTS (default 100000), BENCH_FULL_ATTEMPTS (default 20000: the
# full result is about 100 KB of JSON per attempt here), BENCH_BIG_ATTEMPTS (default
# 1000000, 0 to skip).
set -euo pipefail
build=${1:?usage: bench/policy-batch.sh BUILD_DIR}
vnet=$build/vnet
[ -d "$build" ] || vnet=$build
here=$(cd "$(dirname "$0")" && pwd)
n=${BENCH_ATTEMPTS:-100000}
nf=${BENCH_FULL_ATTEMPTS:-20000}
nbig=${BENCH_BIG_ATTEMPTS:-1000000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$here/gen-policy-batch.py" "$work/cfg.json" "$work/a.jsonl" "$n"
head -n "$nf" "$work/a.jsonl" > "$work/full.jsonl"
head -n 1 "$work/a.jsonl" > "$work/one.jsonl"

# run NAME ARGS...: "cpu_seconds wall_seconds peak_rss_kB" of vnet ARGS (exit 0 or 1)
run() {
  local name=$1; shift
  /usr/bin/time -v -o "$work/$name.time" "$vnet" --config "$work/cfg.json" "$@" \
    > /dev/null 2> "$work/$name.err" || [ $? -eq 1 ] || {
    echo "policy-batch: $name failed:" >&2; tail -5 "$work/$name.err" >&2; exit 1; }
  awk -F': ' '/User time|System time/ {c += $2}
              /Elapsed \(wall clock\)/ {n = split($2, t, ":"); w = 0
                                        for (i = 1; i <= n; i++) w = w * 60 + t[i]}
              /Maximum resident set size/ {m = $2}
              END {print c, w, m}' "$work/$name.time"
}
line() { printf '%-30s %12s %12s %8.2f\n' "$1" "$2" "$3" "$4"; }

read -r c_one w_one m_one < <(run one --json policy test --brief "$work/one.jsonl")
read -r c_b w_b m_b < <(run brief --json policy test --brief "$work/a.jsonl")
read -r c_f w_f m_f < <(run full --json policy test "$work/full.jsonl")
# what is spent per attempt: the time of one attempt (loading the configuration and
# the rules) is included, as a user running the command would see it
rate() { awk -v n="$1" -v s="$2" 'BEGIN { if (s <= 0) s = 0.001; printf "%.0f", n / s }'; }
rb=$(rate "$n" "$c_b"); rbw=$(rate "$n" "$w_b")
rf=$(rate "$nf" "$c_f"); rfw=$(rate "$nf" "$w_f")
echo "configuration: 100 policies, 10000 users (one attempt alone: $(awk -v c="$c_one" \
  'BEGIN {printf "%.2f", c}') s CPU, $((m_one / 1024)) MB); $n attempts, full result on the first $nf"
printf '%-30s %12s %12s %8s\n' name ours goal ratio
line "brief-json-attempts/s" "$rb" ">=200000" "$(awk -v a="$rb" 'BEGIN {print a / 200000}')"
echo "  (wall clock ${rbw}/s)"
line "full-json-attempts/s" "$rf" ">=10000" "$(awk -v a="$rf" 'BEGIN {print a / 10000}')"
echo "  (wall clock ${rfw}/s)"
line "peak-rss-MB-brief-$n" "$((m_b / 1024))" "<=64" "$(awk -v m="$m_b" 'BEGIN {print 65536 / m}')"
line "peak-rss-MB-full-$nf" "$((m_f / 1024))" "<=64" "$(awk -v m="$m_f" 'BEGIN {print 65536 / m}')"
if [ "$nbig" -gt 0 ]; then
  "$here/gen-policy-batch.py" "$work/cfg.json" "$work/big.jsonl" "$nbig"
  read -r c_g w_g m_g < <(run big --json policy test --brief "$work/big.jsonl")
  line "peak-rss-MB-brief-$nbig" "$((m_g / 1024))" "<=64" "$(awk -v m="$m_g" 'BEGIN {print 65536 / m}')"
  line "brief-json-attempts/s-$nbig" "$(rate "$nbig" "$c_g")" ">=200000" \
    "$(awk -v a="$(rate "$nbig" "$c_g")" 'BEGIN {print a / 200000}')"
fi
exit 0
