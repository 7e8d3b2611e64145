pcap explain tests/captures/pptp-no-answer.pcap
