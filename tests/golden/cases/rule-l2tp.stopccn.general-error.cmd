pcap explain tests/captures/l2tp-bad-secret.pcap
