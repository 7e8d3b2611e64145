pcap decode help
