pcap explain --keys tests/golden/cases/explain-radius-secret.keys {shared}/corpus/lab/radius-freeradius.pcap
