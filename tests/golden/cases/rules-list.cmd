rules list
