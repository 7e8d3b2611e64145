pcap explain tests/captures/serve-auth-rejected.pcap
