pcap explain {src}/tests/captures/serve-wrongpw.pcap
