pcap explain --json tests/captures/serve-mtu-path.pcap
