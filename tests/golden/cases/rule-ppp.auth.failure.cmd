pcap explain tests/captures/serve-pap-wrongpw.pcap
