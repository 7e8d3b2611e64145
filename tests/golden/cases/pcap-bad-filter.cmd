pcap decode --filter 'udp port' {shared}/corpus/lab/ikev2-psk.pcap
