pcap explain {src}/tests/captures/ikev1-badpsk.pcap
