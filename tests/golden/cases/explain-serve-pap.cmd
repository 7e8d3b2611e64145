pcap explain {src}/tests/captures/serve-pap.pcap
