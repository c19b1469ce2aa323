"""The account application wizard."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts.opening import agreements, onboarding
from accounts.opening.forms import STEP_OF_FIELD, STEP_TITLES, STEPS, ReviewForm, summary
from accounts.opening.models import AccountApplication
from accounts.users.api import client_ip
from rushtrade.forms import add_service_errors


def _own_application(request, pk) -> AccountApplication:
    return get_object_or_404(AccountApplication, pk=pk, applicant=request.user)


@login_required
@require_POST
def start_application(request):
    application = onboarding.start_application(request.user)
    return redirect("application-step", pk=application.pk, step=STEPS[0][0])


@login_required
def application_detail(request, pk):
    application = _own_application(request, pk)
    return render(
        request,
        "opening/application_detail.html",
        {
            "application": application,
            "steps": STEP_TITLES.items(),
            "account": getattr(application, "account", None),
            "events": application.events.select_related("actor"),
            "accepted": [
                agreements.document(name, version)
                for name, version in sorted(application.agreement_versions.items())
                if agreements.document(name, version)
            ],
            "withdrawable": application.status in ("draft", "submitted", "action_required"),
            "resume_step": _first_incomplete_step(application),
        },
    )


def _submitted_message(application: AccountApplication) -> str:
    if application.status == "approved":
        return "Your account is open."
    if application.awaits_applicant:
        return "Your application needs attention: see below."
    if application.status == "action_required":
        return "Thank you: your application is with our compliance team for review."
    return "Thank you: your application is submitted for review."


def _first_incomplete_step(application: AccountApplication) -> str:
    """Where a draft is picked up: its first step that still lacks something."""
    for slug, form_class in STEPS:
        if form_class is ReviewForm:
            break
        if onboarding.step_missing(application, form_class(instance=application).step_fields()):
            return slug
    return "review"


@login_required
def withdraw_application(request, pk):
    """Asks first (GET), then withdraws (POST)."""
    application = _own_application(request, pk)
    if request.method != "POST":
        return render(request, "opening/withdraw.html", {"application": application})
    try:
        onboarding.withdraw_application(application, request.user)
    except onboarding.ApplicationError as error:
        messages.error(request, error.message)
        return redirect("application-detail", pk=pk)
    messages.info(request, f"Application {application.pk} is withdrawn.")
    return redirect("home")


def agreement_page(request, agreement, version=None):
    """An agreement, readable before and after it is accepted (every published version)."""
    document = agreements.document(agreement, version)
    if document is None:
        raise Http404("No such agreement or version.")
    return render(
        request,
        "opening/agreement.html",
        {"document": document, "is_current": agreements.CURRENT.get(agreement) == document},
    )


def _apply_errors(form, error: onboarding.ApplicationError, application) -> None:
    """Put the service's field errors on the form's fields, or, for fields of other
    steps, as links to those steps."""

    def elsewhere(name, field_error):
        step = STEP_OF_FIELD.get(name)
        label = name.replace("_", " ").capitalize()
        where = f" (step “{STEP_TITLES[step]}”)" if step else ""
        return f"{label}: {field_error.message}{where}"

    add_service_errors(
        form,
        error,
        field_of=lambda name: (
            "agreements"
            if name.startswith("agreements.")
            else getattr(form, "field_for", lambda n: n)(name)
        ),
        elsewhere=elsewhere,
    )


@sensitive_post_parameters("tax_id", "foreign_tax_id")
@login_required
def application_step(request, pk, step):
    application = _own_application(request, pk)
    slugs = [slug for slug, _ in STEPS]
    if step not in slugs:
        raise Http404("No such step.")
    if not application.editable:
        messages.info(
            request,
            f"This application is {application.get_status_display().lower()}"
            " and can no longer be changed.",
        )
        return redirect("application-detail", pk=pk)
    form_class = dict(STEPS)[step]
    index = slugs.index(step)
    is_review = form_class is ReviewForm
    data = request.POST if request.method == "POST" else None  # an empty step is posted too

    if is_review:
        initial = {
            "tax_certification_signature": application.tax_certification_signature,
            "agreements": sorted(onboarding.accepted_agreements(application)),
            "treaty_country": application.treaty_country.code or "",
            "treaty_article": application.treaty_article,
        }
        form = ReviewForm(data, application=application, initial=initial)
    else:
        form = form_class(data, instance=application)

    if request.method == "POST" and form.is_valid():
        try:
            if is_review:
                onboarding.update_application(
                    application,
                    request.user,
                    form.changes(),
                    agreements=form.cleaned_data["agreements"],
                    ip_address=client_ip(request),
                )
                application = onboarding.submit_application(application, request.user)
                messages.success(request, _submitted_message(application))
                return redirect("application-detail", pk=pk)
            application = onboarding.update_application(
                application, request.user, form.changes(), ip_address=client_ip(request)
            )
        except onboarding.ApplicationError as error:
            _apply_errors(form, error, application)
        else:
            # Saved as a draft either way; the wizard moves on once the step is complete.
            missing = onboarding.step_missing(application, form.step_fields())
            if not missing:
                return redirect("application-step", pk=pk, step=slugs[index + 1])
            form = _reshown(form_class, request, application, missing)

    context = {}
    if is_review:
        context["summary"] = summary(application)

    return render(
        request,
        "opening/application_step.html",
        {
            "application": application,
            "form": form,
            "step": step,
            "steps": list(STEP_TITLES.items()),
            "index": index,
            "previous": slugs[index - 1] if index else None,
            "action": reverse("application-step", args=[pk, step]),
            **context,
        },
    )


def _reshown(form_class, request, application, missing):
    """The step again, as posted, with the fields it still needs marked."""
    form = form_class(request.POST, instance=application)
    form.is_valid()
    for name, error in missing.items():
        if form.field_for(name) in form.fields:
            form.add_error(form.field_for(name), error.message)
        else:
            form.add_error(None, error.message)
    form.add_error(None, "Saved as a draft. Complete the fields marked below to continue.")
    return form
