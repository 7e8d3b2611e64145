pcap decode {shared}/corpus/public/pcaps/tcpdump__isakmp-rfc3948-oobr.pcap
