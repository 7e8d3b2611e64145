pcap explain --keys tests/captures/ikev2-eap-wrong-password.keys tests/captures/ikev2-eap-wrong-password.pcap
