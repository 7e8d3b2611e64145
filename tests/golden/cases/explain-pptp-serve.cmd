pcap explain {src}/tests/captures/pptp-serve.pcap
