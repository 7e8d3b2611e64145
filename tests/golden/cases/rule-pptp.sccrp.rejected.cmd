pcap explain tests/captures/pptp-serve-version.pcap
