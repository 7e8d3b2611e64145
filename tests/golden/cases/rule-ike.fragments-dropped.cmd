pcap explain tests/captures/ikev2-fragments-dropped.pcap
