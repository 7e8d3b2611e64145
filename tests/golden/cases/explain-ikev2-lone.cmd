pcap explain tests/captures/ikev2-lone.pcap
