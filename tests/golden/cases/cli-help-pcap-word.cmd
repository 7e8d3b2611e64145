pcap help
