pcap explain --keys tests/captures/ikev2-ts-unacceptable.keys tests/captures/ikev2-ts-unacceptable.pcap
