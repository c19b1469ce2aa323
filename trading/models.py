"""Securities, market data, orders, executions and positions (see issue: order entry)."""
