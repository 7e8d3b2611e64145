pcap explain --radius-secret "" {shared}/corpus/lab/radius-freeradius.pcap
