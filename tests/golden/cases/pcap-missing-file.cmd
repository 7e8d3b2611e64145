pcap decode tests/golden/cases/no-such.pcap
