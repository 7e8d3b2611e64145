pcap explain tests/captures/ikev1-lone.pcap
