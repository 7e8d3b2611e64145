pcap explain tests/captures/serve-disabled.pcap
