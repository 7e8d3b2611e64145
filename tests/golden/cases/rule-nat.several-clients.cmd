pcap explain --keys tests/captures/nat-two-clients.keys tests/captures/nat-two-clients.pcap
