pcap decode {shared}/corpus/lab/l2tp-xl2tpd-ppp.pcap
