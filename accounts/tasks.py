from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from .models import AccountApplication


@shared_task(bind=True, max_retries=5, default_retry_delay=60, acks_late=True)
def send_application_status_email(self, application_id: int) -> None:
    """Tell the applicant the application's status and reasons (never its tax ids)."""
    application = AccountApplication.objects.select_related("applicant").get(pk=application_id)
    context = {
        "application": application,
        "account": getattr(application, "account", None),
        "site_url": settings.SITE_URL,
    }
    subject = f"Your RushTrade application: {application.get_status_display()}"
    body = render_to_string("accounts/email/application_status.txt", context)
    try:
        send_mail(subject, body, None, [application.email or application.applicant.email])
    except OSError as exc:
        raise self.retry(exc=exc) from exc


@shared_task(acks_late=True)
def run_ach_simulator() -> dict:
    """The embedded run's ACH processor: settles transfers after a delay."""
    from . import funding

    if not settings.ACH_SIMULATOR:
        return {}
    return funding.run_ach_simulator()
