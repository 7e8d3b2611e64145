pcap explain tests/captures/serve-change-refused.pcap
