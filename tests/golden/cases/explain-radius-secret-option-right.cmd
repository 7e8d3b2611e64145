pcap explain --radius-secret testing123 {shared}/corpus/lab/radius-freeradius.pcap
