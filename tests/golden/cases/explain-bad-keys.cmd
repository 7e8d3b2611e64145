pcap explain --keys {src}/tests/golden/cases/explain-bad-keys.txt {shared}/corpus/lab/ikev2-psk.pcap
