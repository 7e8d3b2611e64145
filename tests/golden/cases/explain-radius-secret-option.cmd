pcap explain --session 1 --radius-secret Testing123 {shared}/corpus/lab/radius-freeradius.pcap
