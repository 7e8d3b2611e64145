pcap explain --session 1 --keys tests/golden/cases/rule-radius.secret-mismatch.keys {shared}/corpus/lab/radius-freeradius.pcap
