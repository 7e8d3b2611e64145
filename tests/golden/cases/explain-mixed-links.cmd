pcap explain tests/captures/mixed-links.pcapng
