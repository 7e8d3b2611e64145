pcap explain --keys tests/golden/cases/rule-ike.keys-do-not-decrypt.keys tests/captures/ikev2-ts-unacceptable.pcap
