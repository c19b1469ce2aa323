"""Celery tasks of account opening."""

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from accounts.opening.models import AccountApplication


@shared_task(
    name="accounts.tasks.send_application_status_email",
    bind=True,
    max_retries=5,
    default_retry_delay=60,
    acks_late=True,
)
def send_application_status_email(self, application_id: int) -> None:
    """Tell the applicant the application's status and reasons (never its tax ids)."""
    application = AccountApplication.objects.select_related("applicant").get(pk=application_id)
    kind = f"{application.get_account_type_display().lower() or 'brokerage'} account"
    context = {
        "application": application,
        "account_kind": f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}",
        "account": getattr(application, "account", None),
        "site_url": settings.SITE_URL,
    }
    subject = f"Your RushTrade application: {application.get_status_display()}"
    body = render_to_string("opening/email/application_status.txt", context)
    try:
        send_mail(subject, body, None, [application.email or application.applicant.email])
    except OSError as exc:
        raise self.retry(exc=exc) from exc
