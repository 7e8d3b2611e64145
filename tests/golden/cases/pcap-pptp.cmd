pcap decode -c 14 {shared}/corpus/lab/pptp-gre-ppp.pcap
