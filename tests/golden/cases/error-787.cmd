error 787
