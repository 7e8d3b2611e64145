pcap explain {shared}/corpus/lab/ikev1-tunnel.pcap
