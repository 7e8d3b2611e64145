pcap explain --keys {shared}/corpus/lab/ikev1-l2tp.tshark-keys.txt {shared}/corpus/lab/ikev1-l2tp.pcap
