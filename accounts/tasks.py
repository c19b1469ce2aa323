"""The app's Celery tasks, found here by Celery's autodiscovery; each lives in its package
(names kept as `accounts.tasks.*`, which the beat schedule in the database refers to)."""

from accounts.money.tasks import run_ach_simulator
from accounts.opening.tasks import send_application_status_email
from accounts.profile.tasks import send_profile_change_email

__all__ = [
    "run_ach_simulator",
    "send_application_status_email",
    "send_profile_change_email",
]
