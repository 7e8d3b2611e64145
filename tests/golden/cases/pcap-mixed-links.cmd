pcap decode tests/captures/mixed-links.pcapng
