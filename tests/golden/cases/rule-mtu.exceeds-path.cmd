pcap explain tests/captures/serve-mtu-path.pcap
