pcap explain --keys {src}/tests/golden/cases/explain-esp-bad-keys.keys {shared}/corpus/lab/ikev2-psk.pcap
