pcap explain -v tests/captures/l2tp-bad-secret.pcap
