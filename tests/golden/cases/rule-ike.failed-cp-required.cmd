pcap explain --keys tests/captures/ikev2-failed-cp.keys tests/captures/ikev2-failed-cp.pcap
