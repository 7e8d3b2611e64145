pcap decode
