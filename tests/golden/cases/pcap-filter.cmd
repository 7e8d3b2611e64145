pcap decode --filter 'udp port 4500 and udp[8:4] = 0' {shared}/corpus/lab/ikev2-psk.pcap
