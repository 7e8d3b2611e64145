pcap explain {src}/tests/golden/cases/explain-missing.pcap
