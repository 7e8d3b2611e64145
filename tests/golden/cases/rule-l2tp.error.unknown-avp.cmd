pcap explain tests/captures/l2tp-serve-unknown-avp.pcap
