pcap explain tests/captures/serve-chap-wrongpw.pcap
