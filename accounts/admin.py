"""Staff admin of the accounts app: each package registers its own models."""

from accounts.api_keys import admin as api_keys_admin  # noqa: F401
from accounts.events import admin as events_admin  # noqa: F401
from accounts.money import admin as money_admin  # noqa: F401
from accounts.opening import admin as opening_admin  # noqa: F401
from accounts.profile import admin as profile_admin  # noqa: F401
from accounts.users import admin as users_admin  # noqa: F401
