pcap explain -v --keys tests/captures/ikev2-eap-fragments.keys tests/captures/ikev2-eap-fragments.pcap
