pcap explain tests/captures/ikev1-cert-none.pcap
