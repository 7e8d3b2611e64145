pcap explain tests/captures/serve-enc-required.pcap
