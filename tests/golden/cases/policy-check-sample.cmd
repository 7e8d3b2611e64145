policy check
