pcap decode {shared}/corpus/public/pcaps/packetnet__l2tp.pcap
