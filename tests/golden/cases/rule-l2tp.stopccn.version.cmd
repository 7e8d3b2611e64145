pcap explain tests/captures/l2tp-serve-version.pcap
