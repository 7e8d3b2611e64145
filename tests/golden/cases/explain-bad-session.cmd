pcap explain {shared}/corpus/lab/radius-freeradius.pcap --session 99
