pcap explain {src}/tests/captures/serve-pool.pcap
