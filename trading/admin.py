"""Staff admin of the trading app: each package registers its own models."""

from trading.clearing import admin as clearing_admin  # noqa: F401
from trading.market import admin as market_admin  # noqa: F401
from trading.orders import admin as orders_admin  # noqa: F401
from trading.reporting import admin as reporting_admin  # noqa: F401
from trading.routing import admin as routing_admin  # noqa: F401
