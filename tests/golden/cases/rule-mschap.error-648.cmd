pcap explain tests/captures/serve-expired.pcap
