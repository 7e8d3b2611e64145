pcap help nope
