"""The accounts app's models, defined in their packages and gathered here for Django."""

from accounts.api_keys.models import *  # noqa: F403
from accounts.events.models import *  # noqa: F403
from accounts.money.models import *  # noqa: F403
from accounts.opening.models import *  # noqa: F403
from accounts.profile.models import *  # noqa: F403
from accounts.users.models import *  # noqa: F403
