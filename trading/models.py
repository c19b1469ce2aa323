"""The trading app's models, defined in their packages and gathered here for Django."""

from trading.clearing.models import *  # noqa: F403
from trading.market.models import *  # noqa: F403
from trading.orders.models import *  # noqa: F403
from trading.reporting.models import *  # noqa: F403
from trading.routing.models import *  # noqa: F403
