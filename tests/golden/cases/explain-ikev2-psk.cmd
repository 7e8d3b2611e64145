pcap explain {shared}/corpus/lab/ikev2-psk.pcap
