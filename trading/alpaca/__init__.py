"""The trading API compatible with Alpaca's Trading API v2 and its market data v2
(/v2/): what `alpaca-py` and other Alpaca clients call, answered from our own accounts,
orders, positions and market data."""
