pcap decode -c 10 {shared}/corpus/public/pcaps/tcpdump__pptp.pcap
