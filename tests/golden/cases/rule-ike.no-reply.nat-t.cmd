pcap explain tests/captures/ikev1-natt-silent.pcap
