"""/v2/watchlists: the customer's watchlists (trading.market.watchlist) as Alpaca's
Watchlist objects. They belong to the login that owns the key (the watchlist page shows
the first one); `account_id` is the key's account."""

from accounts.opening.models import Account
from trading.alpaca.formats import account_id
from trading.alpaca.market import asset_dict
from trading.market import watchlist as lists
from trading.market.models import Watchlist


def watchlist_dict(account: Account, found: Watchlist, with_assets: bool = True) -> dict:
    out = {
        "id": str(found.uuid),
        "account_id": account_id(account),
        "created_at": found.created_at,
        "updated_at": found.updated_at,
        "name": found.name,
    }
    if with_assets:
        out["assets"] = [asset_dict(s) for s in lists.securities_of(found)]
    return out
