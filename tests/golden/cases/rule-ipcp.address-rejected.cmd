pcap explain tests/captures/serve-ipcp-address.pcap
