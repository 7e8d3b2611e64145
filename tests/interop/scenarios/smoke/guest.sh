# smoke: the guest booted, its modules are in, the clients start.
fail=0
need_module() {
    if grep -q "^$1 " /proc/modules; then
        echo "smoke: module $1 loaded"
    else
        echo "smoke: module $1 NOT loaded"
        fail=1
    fi
}
for m in ppp_generic ppp_async pppox pptp l2tp_core l2tp_ppp xfrm_user esp4 af_key tun; do
    need_module "$m"
done
if [ -c /dev/ppp ]; then echo "smoke: /dev/ppp present"; else echo "smoke: /dev/ppp missing"; fail=1; fi
# each version line is matched by host.sh
echo "smoke: pppd: $(pppd --version 2>&1 | head -n1)"
echo "smoke: xl2tpd: $(xl2tpd -v 2>&1 | grep -m1 version)"
echo "smoke: pptp: $(pptp --version 2>&1 | head -n1)"
echo "smoke: charon: $(/usr/lib/ipsec/charon --version 2>&1 | head -n1)"
echo "smoke: kernel warnings: $(dmesg | grep -c 'cut here')"
exit $fail
