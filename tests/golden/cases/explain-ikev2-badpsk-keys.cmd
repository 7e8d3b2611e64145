pcap explain --keys {shared}/corpus/lab/ikev2-badpsk.tshark-keys.txt {shared}/corpus/lab/ikev2-badpsk.pcap
