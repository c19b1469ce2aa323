"""Models of the accounts app: users and onboarding (core), the cash ledger, funding."""

from .core import *  # noqa: F403
from .funding import *  # noqa: F403
from .ledger import *  # noqa: F403
