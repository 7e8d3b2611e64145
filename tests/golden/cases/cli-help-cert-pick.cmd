help cert pick
