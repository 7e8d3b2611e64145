pcap explain {src}/tests/captures/serve-mppe-required.pcap
