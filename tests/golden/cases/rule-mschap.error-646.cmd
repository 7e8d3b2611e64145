pcap explain tests/captures/serve-hours.pcap
