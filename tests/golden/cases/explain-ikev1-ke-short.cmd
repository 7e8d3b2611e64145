pcap explain tests/captures/ikev1-ke-short.pcap
