pcap explain -v {shared}/corpus/lab/pptp-gre-ppp.pcap
