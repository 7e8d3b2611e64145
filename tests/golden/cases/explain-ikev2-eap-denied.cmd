pcap explain --keys tests/captures/ikev2-eap-denied.keys tests/captures/ikev2-eap-denied.pcap
