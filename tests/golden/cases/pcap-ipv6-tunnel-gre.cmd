pcap decode {shared}/corpus/public/pcaps/zeek__gre-pptp.pcap
