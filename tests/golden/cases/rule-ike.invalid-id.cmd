pcap explain --keys tests/captures/ikev1-invalid-id.keys tests/captures/ikev1-invalid-id.pcap
