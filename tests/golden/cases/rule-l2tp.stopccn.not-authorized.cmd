pcap explain tests/captures/l2tp-serve-secret.pcap
