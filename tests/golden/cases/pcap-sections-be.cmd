pcap decode tests/captures/sections-be.pcapng
