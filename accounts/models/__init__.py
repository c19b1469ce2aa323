"""Models of the accounts app: users and onboarding (core), the cash ledger, funding."""

from .api_keys import *  # noqa: F403
from .core import *  # noqa: F403
from .funding import *  # noqa: F403
from .ledger import *  # noqa: F403
