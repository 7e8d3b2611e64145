pcap explain {shared}/corpus/lab/pptp-gre-ppp.pcap
