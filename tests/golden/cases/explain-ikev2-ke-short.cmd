pcap explain tests/captures/ikev2-ke-short.pcap
