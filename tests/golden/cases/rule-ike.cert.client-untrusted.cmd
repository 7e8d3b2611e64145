pcap explain tests/captures/ikev1-cert-untrusted.pcap
