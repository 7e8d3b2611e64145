pcap explain --json tests/captures/serve-pptp-two-calls.pcap
