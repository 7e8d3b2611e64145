pcap explain -v --keys {src}/tests/captures/l2tp-ipsec-natt.keys {src}/tests/captures/l2tp-ipsec-natt.pcap
