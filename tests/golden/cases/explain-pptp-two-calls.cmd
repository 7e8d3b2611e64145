pcap explain -v tests/captures/serve-pptp-two-calls.pcap
