pcap decode -c 0 {shared}/corpus/lab/ikev2-psk.pcap
