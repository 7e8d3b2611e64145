pcap help decode
