pcap explain tests/captures/serve-pptp-gre-blocked.pcap
