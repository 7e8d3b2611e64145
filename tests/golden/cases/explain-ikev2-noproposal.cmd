pcap explain {shared}/corpus/lab/ikev2-noproposal.pcap
