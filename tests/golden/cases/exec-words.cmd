exec error 649
