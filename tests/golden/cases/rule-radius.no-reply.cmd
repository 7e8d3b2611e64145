pcap explain tests/captures/radius-no-reply.pcap
