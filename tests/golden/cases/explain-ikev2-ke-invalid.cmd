pcap explain tests/captures/ikev2-ke-invalid.pcap
