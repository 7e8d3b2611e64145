pcap explain tests/captures/serve-ipsec-wrongpsk.pcap
