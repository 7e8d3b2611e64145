pcap explain {src}/tests/captures/serve-denied.pcap
