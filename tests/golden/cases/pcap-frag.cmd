pcap decode tests/golden/cases/pcap-frag.pcap
