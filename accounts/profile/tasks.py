"""Celery tasks of the profile: telling the customer what staff decided on a change."""

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail

from accounts.profile.models import ProfileChange


@shared_task(
    name="accounts.tasks.send_profile_change_email",
    bind=True,
    max_retries=5,
    default_retry_delay=60,
    acks_late=True,
)
def send_profile_change_email(self, change_id: int) -> None:
    change = ProfileChange.objects.select_related("user").get(pk=change_id)
    kind = change.get_kind_display().lower()
    lines = [
        f"Your {kind} change, asked for on {change.requested_at:%B %-d, %Y}, is "
        f"{change.get_status_display().lower()}.",
    ]
    if change.decision_note and change.status == ProfileChange.Status.REJECTED:
        lines.append(f"The reason: {change.decision_note}")
    lines.append(f"Your profile: {settings.SITE_URL}/profile/")
    try:
        send_mail(f"Your RushTrade {kind} change", "\n\n".join(lines), None, [change.user.email])
    except OSError as exc:
        raise self.retry(exc=exc) from exc
