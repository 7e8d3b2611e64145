pcap explain tests/captures/serve-pptp-busy.pcap
