pcap explain --keys tests/captures/ikev2-internal-address.keys tests/captures/ikev2-internal-address.pcap
