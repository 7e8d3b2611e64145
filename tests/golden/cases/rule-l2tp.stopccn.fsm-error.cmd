pcap explain tests/captures/l2tp-serve-fsm.pcap
