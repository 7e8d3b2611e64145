pcap explain -v --keys {src}/tests/captures/l2tp-ipsec-real.keys {src}/tests/captures/l2tp-ipsec-real.pcap
