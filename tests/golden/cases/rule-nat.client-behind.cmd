pcap explain --keys tests/captures/nat-behind-silent.keys tests/captures/nat-behind-silent.pcap
