#!/usr/bin/env bash
# serve-restart host side: vnet serve with the lab configuration of
# serve-host-lib.sh; 2 s after the guest's session is up the server is
# killed with SIGKILL and started again with the same accounting file.
# Passes when pppd in the guest notices the loss (LCP echo failure, hang-up
# or terminate), the first server died of the signal, the second one started
# and, at its start, closed the first server's session in the accounting
# file: a start record for alice and a stop record for the same session with
# cause server-restart.
# Called as: host.sh start|stop|check (see docs/interop.md).
set -u
. "$(dirname "$0")/../serve-host-lib.sh"
case "$1" in
start)
    serve_need
    serve_config
    serve_start || exit 1
    serve_watch
    (
        for _ in $(seq 1 600); do # 120 s at most
            if grep -Eq 'session [0-9]+ up' "$SLOG"; then
                sleep 2
                kill -KILL "$(cat "$W/serve.pid")"
                echo "SIGKILL sent at $(date -u +%T.%N)"
                for _ in $(seq 1 50); do
                    [ -f "$W/serve.rc" ] && break
                    sleep 0.1
                done
                cp "$ACCT" "$W/acct-before-restart.jsonl" 2> /dev/null
                serve_start serve2
                exit
            fi
            sleep 0.2
        done
    ) > "$W/restart.log" 2>&1 &
    echo $! >> "$INTEROP_PIDS"
    exit 0 ;;
stop)
    serve_stop serve2
    serve_stop serve
    exit 0 ;;
check)
    cat "$W/restart.log"
    expect_guest_status 0
    expect_log 'session [0-9]+ up user=alice addr=[0-9.]+ method=MS-CHAPv2' "server: alice up"
    r=$(cat "$W/serve.rc" 2> /dev/null)
    if [ "$r" = 137 ]; then good "first server died of SIGKILL (status 137)"
    else bad "first server status '${r:-none}', wanted 137"; fi
    expect_log 'listening on 127\.0\.0\.1:1701' "restarted server listens" "$W/serve2.log"
    expect_console '^SERVE-DOWN lac=one how=(echo-failure|hangup|terminated-by-peer|terminated) ' \
        "guest: pppd noticed the server's loss"
    sid=$(sed -n 's/.*session \([0-9]*\) up user=alice .*/\1/p' "$SLOG" | head -n1)
    if [ -s "$W/acct-before-restart.jsonl" ] &&
        jq -e --argjson s "${sid:-0}" 'select(.event == "start" and .session == $s and .user == "alice")' \
            "$W/acct-before-restart.jsonl" > /dev/null; then
        good "accounting: the killed server had written session $sid's start"
    else
        bad "accounting: no start record for session ${sid:-?} before the restart"
    fi
    if [ -s "$W/acct-before-restart.jsonl" ] && jq -e 'select(.event == "stop")' "$W/acct-before-restart.jsonl" > /dev/null; then
        bad "accounting: a stop record was already written before the restart"
    fi
    stop=$(jq -c --argjson s "${sid:-0}" 'select(.event == "stop" and .session == $s)' "$ACCT" 2> /dev/null | head -n1)
    echo "    ${stop:-no stop record}"
    if jq -e '.cause == "server-restart" and .user == "alice"' <<< "${stop:-null}" > /dev/null 2>&1; then
        good "accounting: stop record with cause server-restart"
    else
        bad "accounting: no stop record with cause server-restart for session ${sid:-?}"
    fi
    grep -E 'l2tp|tunnel|unknown' "$W/serve2.log" | head -n 5 | sed 's/^/    restarted server: /'
    expect_exit_clean serve2
    explain "$W/serve.pcap"
    exit $rc ;;
*) echo "usage: host.sh start|stop|check" >&2; exit 2 ;;
esac
