pcap --help
