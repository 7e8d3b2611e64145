pcap decode --filter 'udp port 500' tests/captures/mixed-links.pcapng
