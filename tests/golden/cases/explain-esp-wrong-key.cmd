pcap explain -v --keys {src}/tests/golden/cases/explain-esp-wrong-key.keys {shared}/corpus/lab/ikev2-psk.pcap
