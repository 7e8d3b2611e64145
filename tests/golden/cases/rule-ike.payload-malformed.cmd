pcap explain --keys tests/captures/ikev1-vnet-badpsk.keys tests/captures/ikev1-vnet-badpsk.pcap
