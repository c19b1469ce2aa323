"""Treaty countries typed as free text before they were chosen from a list: a 2-letter
cut of a name ("Germany" -> GE, Georgia) was saved as it came. What was meant cannot be
guessed, so the values stay; each doubtful one is flagged in the application's history
(action "data_flagged", which the admin filters on), and an application still waiting
for a decision gets it as a review reason too."""

from django.db import migrations
from django_countries import countries

FLAG = "data_flagged"
WAITING = ("submitted", "action_required")


def code(value) -> str:
    return str(getattr(value, "code", value) or "")


def doubt(application) -> str:
    treaty, residence = code(application.treaty_country), code(application.tax_residence)
    if treaty not in dict(countries):
        return f"treaty country {treaty!r} is not an ISO country code"
    if "US" in (code(application.citizenship), residence):
        return f"treaty country {treaty} given by a US person (treaties are for W-8BEN filers)"
    if residence and treaty != residence:
        return f"treaty country {treaty} differs from the country of tax residence {residence}"
    return ""


def flag(apps, schema_editor):
    AccountApplication = apps.get_model("accounts", "AccountApplication")
    ApplicationEvent = apps.get_model("accounts", "ApplicationEvent")
    for application in AccountApplication.objects.exclude(treaty_country="").iterator():
        reason = doubt(application)
        if not reason or application.events.filter(action=FLAG).exists():
            continue
        note = f"Check the W-8BEN: {reason} (typed as free text before 2026; not corrected)."
        ApplicationEvent.objects.create(
            application=application,
            action=FLAG,
            from_status=application.status,
            to_status=application.status,
            note=note,
        )
        if application.status in WAITING:
            application.review_reasons = [
                *application.review_reasons,
                {"code": "treaty_country_check", "message": note},
            ]
            application.save(update_fields=["review_reasons"])


def unflag(apps, schema_editor):
    ApplicationEvent = apps.get_model("accounts", "ApplicationEvent")
    AccountApplication = apps.get_model("accounts", "AccountApplication")
    ApplicationEvent.objects.filter(action=FLAG).delete()
    for application in AccountApplication.objects.exclude(treaty_country=""):
        if not any(r.get("code") == "treaty_country_check" for r in application.review_reasons):
            continue
        application.review_reasons = [
            r for r in application.review_reasons if r.get("code") != "treaty_country_check"
        ]
        application.save(update_fields=["review_reasons"])


class Migration(migrations.Migration):
    dependencies = [("accounts", "0008_api_keys")]

    operations = [migrations.RunPython(flag, unflag)]
