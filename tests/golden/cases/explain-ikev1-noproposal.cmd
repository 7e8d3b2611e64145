pcap explain {shared}/corpus/lab/ikev1-noproposal.pcap
