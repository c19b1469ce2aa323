"""Shapes of the /v2/ answers, for the OpenAPI schema (the views answer with the dicts
built in portfolio.py, trading.py and market.py, whose keys these mirror)."""

from rest_framework import serializers

from trading.orders.models import OrderSide, OrderStatus, OrderType, TimeInForce

S = {"required": False, "allow_null": True}


class AlpacaErrorSerializer(serializers.Serializer):
    code = serializers.IntegerField(help_text="e.g. 40010001 (invalid), 40310000 (forbidden)")
    message = serializers.CharField()


class AlpacaAccountSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    account_number = serializers.CharField()
    status = serializers.CharField()
    currency = serializers.CharField()
    buying_power = serializers.CharField()
    regt_buying_power = serializers.CharField()
    daytrading_buying_power = serializers.CharField()
    non_marginable_buying_power = serializers.CharField()
    cash = serializers.CharField()
    accrued_fees = serializers.CharField()
    pending_transfer_in = serializers.CharField()
    pending_transfer_out = serializers.CharField()
    portfolio_value = serializers.CharField()
    pattern_day_trader = serializers.BooleanField()
    trading_blocked = serializers.BooleanField()
    transfers_blocked = serializers.BooleanField()
    account_blocked = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    trade_suspended_by_user = serializers.BooleanField()
    multiplier = serializers.CharField()
    shorting_enabled = serializers.BooleanField()
    equity = serializers.CharField()
    last_equity = serializers.CharField()
    long_market_value = serializers.CharField()
    short_market_value = serializers.CharField()
    initial_margin = serializers.CharField()
    maintenance_margin = serializers.CharField()
    last_maintenance_margin = serializers.CharField()
    sma = serializers.CharField()
    daytrade_count = serializers.IntegerField()


class AlpacaPositionSerializer(serializers.Serializer):
    asset_id = serializers.UUIDField()
    symbol = serializers.CharField()
    exchange = serializers.CharField()
    asset_class = serializers.CharField()
    asset_marginable = serializers.BooleanField()
    qty = serializers.CharField()
    qty_available = serializers.CharField()
    avg_entry_price = serializers.CharField()
    side = serializers.CharField()
    market_value = serializers.CharField()
    cost_basis = serializers.CharField()
    unrealized_pl = serializers.CharField()
    unrealized_plpc = serializers.CharField()
    unrealized_intraday_pl = serializers.CharField()
    unrealized_intraday_plpc = serializers.CharField()
    current_price = serializers.CharField()
    lastday_price = serializers.CharField()
    change_today = serializers.CharField()


class AlpacaOrderSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    client_order_id = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField()
    filled_at = serializers.DateTimeField(**S)
    expired_at = serializers.DateTimeField(**S)
    canceled_at = serializers.DateTimeField(**S)
    failed_at = serializers.DateTimeField(**S)
    replaced_at = serializers.DateTimeField(**S)
    replaced_by = serializers.UUIDField(**S)
    replaces = serializers.UUIDField(**S)
    asset_id = serializers.UUIDField()
    symbol = serializers.CharField()
    asset_class = serializers.CharField()
    qty = serializers.CharField()
    filled_qty = serializers.CharField()
    filled_avg_price = serializers.CharField(**S)
    order_class = serializers.CharField()
    order_type = serializers.CharField()
    type = serializers.CharField()
    side = serializers.CharField()
    time_in_force = serializers.CharField()
    limit_price = serializers.CharField(**S)
    stop_price = serializers.CharField(**S)
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    extended_hours = serializers.BooleanField()
    legs = serializers.ListField(
        child=serializers.DictField(),
        **S,
        help_text="With nested=true (and when placed): the legs of a bracket, oco or oto",
    )
    trail_price = serializers.CharField(**S)
    trail_percent = serializers.CharField(**S)
    hwm = serializers.CharField(**S, help_text="A trailing stop's high-water mark")


class AlpacaTakeProfitSerializer(serializers.Serializer):
    limit_price = serializers.CharField()


class AlpacaStopLossSerializer(serializers.Serializer):
    stop_price = serializers.CharField()
    limit_price = serializers.CharField(**S, help_text="Given: a stop-limit stop-loss")


class AlpacaOrderRequestSerializer(serializers.Serializer):
    symbol = serializers.CharField()
    qty = serializers.CharField(help_text="Whole shares (a string or a number)")
    side = serializers.ChoiceField(choices=OrderSide.choices)
    type = serializers.ChoiceField(choices=OrderType.choices)
    time_in_force = serializers.ChoiceField(choices=TimeInForce.choices)
    limit_price = serializers.CharField(**S)
    stop_price = serializers.CharField(**S)
    trail_price = serializers.CharField(**S, help_text="trailing_stop: dollars from the hwm")
    trail_percent = serializers.CharField(**S, help_text="trailing_stop: percent from the hwm")
    order_class = serializers.ChoiceField(
        choices=["simple", "bracket", "oco", "oto"], required=False
    )
    take_profit = AlpacaTakeProfitSerializer(required=False)
    stop_loss = AlpacaStopLossSerializer(required=False)
    client_order_id = serializers.CharField(
        **S, help_text="Yours, at most 128 characters: a retry returns the first order"
    )


class AlpacaReplaceRequestSerializer(serializers.Serializer):
    trail = serializers.CharField(**S, help_text="A trailing stop's new trail, not yet triggered")
    qty = serializers.CharField(**S)
    time_in_force = serializers.CharField(**S)
    limit_price = serializers.CharField(**S)
    stop_price = serializers.CharField(**S)
    client_order_id = serializers.CharField(**S)


class AlpacaMultiStatusSerializer(serializers.Serializer):
    id = serializers.UUIDField(required=False)
    symbol = serializers.CharField(required=False)
    status = serializers.IntegerField()
    body = serializers.DictField()


class AlpacaAssetSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    # "class" is a Python keyword: added below
    exchange = serializers.CharField()
    symbol = serializers.CharField()
    name = serializers.CharField()
    status = serializers.CharField()
    tradable = serializers.BooleanField()
    marginable = serializers.BooleanField()
    shortable = serializers.BooleanField()
    easy_to_borrow = serializers.BooleanField()
    fractionable = serializers.BooleanField()


AlpacaAssetSerializer._declared_fields["class"] = serializers.CharField()


class AlpacaActivitySerializer(serializers.Serializer):
    id = serializers.CharField()
    account_id = serializers.UUIDField()
    activity_type = serializers.CharField(
        help_text="FILL, CSD, CSW, FEE, INT, JNLC, DIV, DIVNRA, DIVWH, CIL, SPLIT"
    )
    transaction_time = serializers.DateTimeField(required=False)
    type = serializers.CharField(required=False)
    price = serializers.CharField(required=False)
    qty = serializers.CharField(required=False)
    side = serializers.CharField(required=False)
    symbol = serializers.CharField(required=False)
    leaves_qty = serializers.CharField(required=False)
    order_id = serializers.UUIDField(required=False)
    cum_qty = serializers.CharField(required=False)
    order_status = serializers.ChoiceField(choices=OrderStatus.choices, required=False)
    date = serializers.DateField(required=False)
    net_amount = serializers.CharField(required=False)
    description = serializers.CharField(required=False)
    status = serializers.CharField(required=False)


class AlpacaPortfolioHistorySerializer(serializers.Serializer):
    timestamp = serializers.ListField(child=serializers.IntegerField())
    equity = serializers.ListField(child=serializers.FloatField())
    profit_loss = serializers.ListField(child=serializers.FloatField())
    profit_loss_pct = serializers.ListField(child=serializers.FloatField())
    base_value = serializers.FloatField()
    timeframe = serializers.CharField()


class AlpacaClockSerializer(serializers.Serializer):
    timestamp = serializers.DateTimeField()
    is_open = serializers.BooleanField()
    next_open = serializers.DateTimeField()
    next_close = serializers.DateTimeField()


class AlpacaCalendarDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    open = serializers.CharField(help_text="HH:MM, New York time")
    close = serializers.CharField(help_text="HH:MM, New York time")
    settlement_date = serializers.DateField(allow_null=True)


class AlpacaBarSerializer(serializers.Serializer):
    """bars-v2-item: open, high, low, close, volume, trade count, volume-weighted price."""

    t = serializers.DateTimeField()
    o = serializers.FloatField()
    h = serializers.FloatField()
    l = serializers.FloatField()  # noqa: E741 (Alpaca's name)
    c = serializers.FloatField()
    v = serializers.IntegerField()
    n = serializers.IntegerField()
    vw = serializers.FloatField()


class AlpacaQuoteSerializer(serializers.Serializer):
    """quotes-v2-item: ask and bid exchange, price and size; conditions; tape."""

    t = serializers.DateTimeField()
    ax = serializers.CharField()
    ap = serializers.FloatField()
    # "as" is a Python keyword: added below
    bx = serializers.CharField()
    bp = serializers.FloatField()
    bs = serializers.IntegerField()
    c = serializers.ListField(child=serializers.CharField())
    z = serializers.CharField(required=False)


AlpacaQuoteSerializer._declared_fields["as"] = serializers.IntegerField()


class AlpacaTradeSerializer(serializers.Serializer):
    """trades-v2-item: exchange, price, size, conditions, trade id, tape."""

    t = serializers.DateTimeField()
    x = serializers.CharField()
    p = serializers.FloatField()
    s = serializers.IntegerField()
    c = serializers.ListField(child=serializers.CharField())
    i = serializers.IntegerField()
    z = serializers.CharField()


class AlpacaLatestQuotesSerializer(serializers.Serializer):
    quotes = serializers.DictField(child=AlpacaQuoteSerializer(), help_text="symbol → quote")


class AlpacaLatestQuoteSerializer(serializers.Serializer):
    symbol = serializers.CharField()
    quote = AlpacaQuoteSerializer()


class AlpacaLatestTradesSerializer(serializers.Serializer):
    trades = serializers.DictField(child=AlpacaTradeSerializer(), help_text="symbol → trade")


class AlpacaLatestTradeSerializer(serializers.Serializer):
    symbol = serializers.CharField()
    trade = AlpacaTradeSerializer()


class AlpacaBarsSerializer(serializers.Serializer):
    bars = serializers.DictField(
        child=serializers.ListField(child=AlpacaBarSerializer()), help_text="symbol → bars"
    )
    next_page_token = serializers.CharField(allow_null=True)


class AlpacaSymbolBarsSerializer(serializers.Serializer):
    symbol = serializers.CharField()
    bars = AlpacaBarSerializer(many=True)
    next_page_token = serializers.CharField(allow_null=True)


class AlpacaAccountConfigurationsSerializer(serializers.Serializer):
    dtbp_check = serializers.ChoiceField(["both", "entry", "exit"])
    trade_confirm_email = serializers.ChoiceField(["all", "none"])
    suspend_trade = serializers.BooleanField()
    no_shorting = serializers.BooleanField(help_text="Always true: no short sales")
    fractional_trading = serializers.BooleanField(help_text="Always false: whole shares")
    max_margin_multiplier = serializers.CharField(help_text="1 (cash) or 2 (margin)")
    pdt_check = serializers.ChoiceField(["both", "entry", "exit"])
    ptp_no_exception_entry = serializers.BooleanField(help_text="Always false")
    max_options_trading_level = serializers.IntegerField(help_text="Always 0: no options")


class AlpacaWatchlistSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    account_id = serializers.UUIDField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    name = serializers.CharField(max_length=64)
    assets = AlpacaAssetSerializer(many=True, required=False, help_text="Not in the list of all")


class AlpacaWatchlistRequestSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=64)
    symbols = serializers.ListField(child=serializers.CharField(), required=False)


class AlpacaWatchlistSymbolSerializer(serializers.Serializer):
    symbol = serializers.CharField()


class AlpacaLatestBarsSerializer(serializers.Serializer):
    bars = serializers.DictField(child=AlpacaBarSerializer(), help_text="symbol → minute bar")


class AlpacaLatestBarSerializer(serializers.Serializer):
    symbol = serializers.CharField()
    bar = AlpacaBarSerializer()


class AlpacaSnapshotSerializer(serializers.Serializer):
    """snapshot-ticker-v2; `symbol` only in the answer for one symbol."""

    symbol = serializers.CharField(required=False)
    latestTrade = AlpacaTradeSerializer(allow_null=True)
    latestQuote = AlpacaQuoteSerializer(allow_null=True)
    minuteBar = AlpacaBarSerializer(allow_null=True)
    dailyBar = AlpacaBarSerializer(allow_null=True)
    prevDailyBar = AlpacaBarSerializer(allow_null=True)


# GET /v2/stocks/snapshots: one key per symbol, its snapshot (no other keys). A schema of
# its own: drf-spectacular takes no bare DictField as an answer. The component is the one
# GET /v2/stocks/{symbol}/snapshot registers.
SNAPSHOTS_SCHEMA = {
    "type": "object",
    "description": "symbol → snapshot",
    "additionalProperties": {"$ref": "#/components/schemas/AlpacaSnapshot"},
}


class AlpacaQuotesSerializer(serializers.Serializer):
    quotes = serializers.DictField(child=serializers.ListField(child=AlpacaQuoteSerializer()))
    next_page_token = serializers.CharField(allow_null=True)


class AlpacaSymbolQuotesSerializer(serializers.Serializer):
    symbol = serializers.CharField()
    quotes = AlpacaQuoteSerializer(many=True)
    next_page_token = serializers.CharField(allow_null=True)


class AlpacaTradesSerializer(serializers.Serializer):
    trades = serializers.DictField(child=serializers.ListField(child=AlpacaTradeSerializer()))
    next_page_token = serializers.CharField(allow_null=True)


class AlpacaSymbolTradesSerializer(serializers.Serializer):
    symbol = serializers.CharField()
    trades = AlpacaTradeSerializer(many=True)
    next_page_token = serializers.CharField(allow_null=True)
