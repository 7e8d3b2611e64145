pcap explain {shared}/corpus/lab/radius-freeradius.pcap
