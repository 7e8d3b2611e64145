pcap explain {src}/tests/captures/serve-ports.pcap
