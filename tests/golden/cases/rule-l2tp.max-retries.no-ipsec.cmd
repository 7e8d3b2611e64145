pcap explain tests/captures/l2tp-no-lns.pcap
