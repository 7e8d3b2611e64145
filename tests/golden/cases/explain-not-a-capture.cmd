pcap explain tests/golden/cases/pcap-frag.cmd
