pcap explain {shared}/corpus/lab/ikev2-badpsk.pcap
