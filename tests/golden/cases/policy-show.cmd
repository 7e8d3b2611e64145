policy show
