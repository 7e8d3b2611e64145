cert help
