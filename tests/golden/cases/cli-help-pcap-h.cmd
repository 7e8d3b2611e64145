pcap -h
