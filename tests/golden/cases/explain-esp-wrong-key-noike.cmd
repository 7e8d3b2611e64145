pcap explain -v --keys {src}/tests/golden/cases/explain-esp-wrong-key-noike.keys {src}/tests/captures/l2tp-ipsec-transport.pcap
