pcap decode tests/golden/cases/pcap-truncated.pcap
