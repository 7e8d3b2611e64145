pcap decode -v -c 1 --filter 'tcp[13] & 8 != 0' {shared}/corpus/lab/pptp-gre-ppp.pcap
