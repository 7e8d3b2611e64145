pcap decode -v -c 1 tests/captures/ikev2-ke-short.pcap
