pcap explain tests/captures/l2tp-serve-call-early.pcap
