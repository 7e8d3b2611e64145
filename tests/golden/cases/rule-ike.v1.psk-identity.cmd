pcap explain -v --keys tests/captures/ikev1-auth-failed.keys tests/captures/ikev1-auth-failed.pcap
