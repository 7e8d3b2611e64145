pcap decode tests/golden/cases/pcap-link147.pcap
