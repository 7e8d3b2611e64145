error --list
