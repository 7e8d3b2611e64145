pcap explain tests/golden/cases/pcap-truncated.pcap
