pcap explain {src}/tests/captures/serve-mschapv2.pcap
