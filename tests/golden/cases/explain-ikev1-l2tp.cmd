pcap explain {shared}/corpus/lab/ikev1-l2tp.pcap
