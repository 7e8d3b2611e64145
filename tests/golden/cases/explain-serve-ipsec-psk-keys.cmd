pcap explain --keys tests/captures/serve-ipsec-psk.keys tests/captures/serve-ipsec-psk.pcap
