pcap explain tests/captures/pptp-call-id-reuse.pcap
