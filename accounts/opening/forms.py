"""The steps of the account application wizard."""

# --- The account application wizard -----------------------------------------------------

import phonenumbers
from django import forms
from django.urls import reverse
from django.utils.html import format_html
from django_countries import countries
from localflavor.us.us_states import US_STATES

from accounts.opening import agreements, rules
from accounts.opening.models import (
    AccountApplication,
    AccountType,
    Agreement,
    EmploymentStatus,
    TaxIdType,
)
from accounts.opening.onboarding import step_missing
from rushtrade.forms import BootstrapMixin, ConditionalFieldsMixin

YES_NO = forms.RadioSelect(choices=[("true", "Yes"), ("false", "No")])
US_STATE_CHOICES = [("", "Choose a state"), *((code, str(name)) for code, name in US_STATES)]
EMPLOYED = (EmploymentStatus.EMPLOYED, EmploymentStatus.SELF_EMPLOYED)


class StepForm(ConditionalFieldsMixin, BootstrapMixin, forms.ModelForm):
    """One step of the application; the service validates the values per country.
    Fields that do not apply (`show_when`) are hidden and saved blank."""

    title = ""
    intro = ""
    # Form fields that are not the model's (e.g. the US state select): not saved as such.
    extra_fields: tuple = ()

    class Meta:
        model = AccountApplication
        fields: tuple = ()

    def changes(self) -> dict:
        return {
            name: self.cleaned_data[name] for name in self.fields if name not in self.extra_fields
        }

    def step_fields(self) -> list[str]:
        """The application fields this step asks for (what must be complete to go on)."""
        return [name for name in self.fields if name not in self.extra_fields]

    def field_for(self, name: str) -> str:
        """The form field that shows the application field `name` (and its errors)."""
        return name

    def summary_fields(self) -> list[tuple[str, str]]:
        """(application field, label) of what applies, for the Review summary."""
        return [
            (name, str(self.fields[self.field_for(name)].label))
            for name in self.step_fields()
            if self.applies(self.field_for(name))
        ]


class AccountTypeForm(StepForm):
    title = "Account type"
    intro = (
        "Every RushTrade account is self-directed: you choose your investments and we "
        "give no advice. Joint and IRA accounts cannot be opened online yet."
    )

    class Meta(StepForm.Meta):
        fields = ("account_type",)
        widgets = {"account_type": forms.RadioSelect}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the types that can be opened: the others would be refused at once.
        self.fields["account_type"].choices = [
            (value, label)
            for value, label in AccountType.choices
            if value in rules.OFFERED_ACCOUNT_TYPES
        ]


class IdentityForm(StepForm):
    title = "About you"
    intro = "Your legal name as it appears on your passport or government ID."

    class Meta(StepForm.Meta):
        fields = (
            "given_name",
            "middle_name",
            "family_name",
            "date_of_birth",
            "citizenship",
            "tax_residence",
            "email",
            "phone",
        )
        widgets = {"date_of_birth": forms.DateInput(attrs={"type": "date"})}
        labels = {
            "given_name": "First (given) name",
            "family_name": "Last (family) name",
            "tax_residence": "Country of tax residence",
            "email": "E-mail",
            "phone": "Phone (with country code)",
        }

    def changes(self) -> dict:
        """A change of citizenship or tax residence that makes the saved tax id the wrong
        kind (an SSN for a non-US person, a passport for a US one) clears it, to be given
        again at the tax identity step, instead of refusing this step for it."""
        changes = super().changes()
        citizenship = str(changes.get("citizenship") or "")
        us_person = "US" in (citizenship, str(changes.get("tax_residence") or ""))
        kind = (
            AccountApplication.objects.filter(pk=self.instance.pk)
            .values_list("tax_id_type", flat=True)
            .first()
        )
        us_kind = kind in (TaxIdType.SSN, TaxIdType.ITIN)
        if kind and ((us_person and not us_kind) or (citizenship and not us_person and us_kind)):
            changes.update(tax_id_type="", tax_id="", tax_id_country="")
        return changes


class AddressForm(StepForm):
    title = "Address"
    intro = "Your residential address (for a US address, not a PO box)."
    extra_fields = ("us_state", "mailing_us_state")
    show_when = {
        "us_state": ("country", ("US",)),
        "state": ("country", ("US",), True),
        "mailing_street_address": ("mailing_same_as_residential", ("false",)),
        "mailing_city": ("mailing_same_as_residential", ("false",)),
        "mailing_country": ("mailing_same_as_residential", ("false",)),
        "mailing_postal_code": ("mailing_same_as_residential", ("false",)),
        "mailing_us_state": [
            ("mailing_same_as_residential", ("false",)),
            ("mailing_country", ("US",)),
        ],
        "mailing_state": [
            ("mailing_same_as_residential", ("false",)),
            ("mailing_country", ("US",), True),
        ],
    }
    us_state = forms.ChoiceField(choices=US_STATE_CHOICES, required=False, label="State")
    mailing_us_state = forms.ChoiceField(
        choices=US_STATE_CHOICES, required=False, label="Mailing state"
    )

    class Meta(StepForm.Meta):
        fields = (
            "country",
            "street_address",
            "street_address_2",
            "city",
            "state",
            "postal_code",
            "mailing_same_as_residential",
            "mailing_country",
            "mailing_street_address",
            "mailing_city",
            "mailing_state",
            "mailing_postal_code",
        )
        labels = {
            "state": "Province or region",
            "mailing_same_as_residential": "My mailing address is the same",
        }
        help_texts = {"state": "Canada and Ukraine: the province or region (e.g. ON)."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The state: a list of US states for a US address, free text (checked per
        # country) elsewhere; the field order follows the country's choice.
        self.order_fields(
            [
                "country",
                "street_address",
                "street_address_2",
                "city",
                "us_state",
                "state",
                "postal_code",
                "mailing_same_as_residential",
                "mailing_country",
                "mailing_street_address",
                "mailing_city",
                "mailing_us_state",
                "mailing_state",
                "mailing_postal_code",
            ]
        )
        instance = self.instance
        if not instance.country:
            self.initial["country"] = instance.tax_residence.code or instance.citizenship.code or ""
        if instance.country == "US":
            self.initial["us_state"] = instance.state
        if instance.mailing_country == "US":
            self.initial["mailing_us_state"] = instance.mailing_state

    def field_for(self, name: str) -> str:
        """A US state is chosen from the list of states, other regions typed."""
        if name in ("state", "mailing_state") and self.applies(f"{name[:-5]}us_state"):
            return f"{name[:-5]}us_state"
        return name

    def changes(self) -> dict:
        changes = super().changes()
        data = self.cleaned_data
        if str(data.get("country") or "") == "US":
            changes["state"] = data.get("us_state") or data.get("state") or ""
        if str(data.get("mailing_country") or "") == "US":
            changes["mailing_state"] = (
                data.get("mailing_us_state") or data.get("mailing_state") or ""
            )
        return changes


class TaxIdForm(StepForm):
    title = "Tax identity"
    intro = "Stored encrypted; we only ever show the last four characters."
    show_when = {
        "tax_id_country": ("tax_id_type", (TaxIdType.PASSPORT, TaxIdType.NATIONAL_ID)),
        "foreign_tax_id": ("foreign_tax_id_not_issued", ("false",)),
    }
    tax_id = forms.CharField(
        label="SSN, ITIN, passport or ID number",
        required=False,
        max_length=30,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )
    foreign_tax_id = forms.CharField(
        label="Foreign tax identification number",
        required=False,
        max_length=40,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )

    class Meta(StepForm.Meta):
        fields = (
            "tax_id_type",
            "tax_id",
            "tax_id_country",
            "foreign_tax_id",
            "foreign_tax_id_not_issued",
        )
        labels = {
            "tax_id_country": "Issuing country (passport or ID card)",
            "foreign_tax_id_not_issued": "My country does not issue tax numbers",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = self.instance
        kinds = self.fields["tax_id_type"]
        if instance.is_us_person:
            # A US citizen or tax resident: an SSN or ITIN and a W-9, nothing foreign.
            self.intro = "As a US citizen or tax resident, you give your SSN or ITIN. " + self.intro
            for name in ("tax_id_country", "foreign_tax_id", "foreign_tax_id_not_issued"):
                del self.fields[name]
            kinds.choices = [
                ("", "---------"),
                (TaxIdType.SSN, TaxIdType.SSN.label),
                (TaxIdType.ITIN, TaxIdType.ITIN.label),
            ]
            self.fields["tax_id"].label = "SSN or ITIN"
        elif instance.citizenship or instance.tax_residence:
            self.intro = (
                "Not a US person: your passport or national ID card, and the tax number "
                f"of {instance.tax_residence.name or 'your country of tax residence'}. "
                + self.intro
            )
            kinds.choices = [
                ("", "---------"),
                (TaxIdType.PASSPORT, TaxIdType.PASSPORT.label),
                (TaxIdType.NATIONAL_ID, TaxIdType.NATIONAL_ID.label),
            ]
            self.fields["tax_id"].label = "Passport or ID card number"
            if not instance.tax_id_country:
                self.initial["tax_id_country"] = instance.citizenship.code or ""
        if instance.tax_id_last4:
            self.fields[
                "tax_id"
            ].help_text = f"On file: {instance.tax_id_masked}. Leave blank to keep it."
        if "foreign_tax_id" in self.fields and instance.foreign_tax_id_last4:
            self.fields[
                "foreign_tax_id"
            ].help_text = f"On file: {instance.foreign_tax_id_masked}. Leave blank to keep it."

    def changes(self) -> dict:
        changes = super().changes()
        for name in ("tax_id", "foreign_tax_id"):
            if name in changes and not changes[name] and self.applies(name):
                changes.pop(name)  # blank keeps what is on file
        if self.instance.is_us_person:
            # Not asked of a US person: nothing foreign stays on file from earlier answers.
            changes.update(tax_id_country="", foreign_tax_id="", foreign_tax_id_not_issued=False)
        return changes


class ProfileForm(StepForm):
    title = "Employment and finances"
    show_when = {
        "employer": ("employment_status", EMPLOYED),
        "occupation": ("employment_status", EMPLOYED),
    }

    class Meta(StepForm.Meta):
        fields = (
            "employment_status",
            "employer",
            "occupation",
            "annual_income",
            "net_worth",
            "liquid_net_worth",
            "investment_objective",
            "investment_experience",
            "risk_tolerance",
        )


class DisclosuresForm(StepForm):
    title = "Disclosures"
    show_when = {
        "control_person_companies": ("is_control_person", ("true",)),
        "affiliated_firm": ("is_affiliated_with_broker", ("true",)),
        "politically_exposed_details": ("is_politically_exposed", ("true",)),
    }

    class Meta(StepForm.Meta):
        fields = (
            "is_control_person",
            "control_person_companies",
            "is_affiliated_with_broker",
            "affiliated_firm",
            "is_politically_exposed",
            "politically_exposed_details",
        )
        widgets = {
            "is_control_person": YES_NO,
            "is_affiliated_with_broker": YES_NO,
            "is_politically_exposed": YES_NO,
        }
        labels = {
            "is_control_person": "Are you a control person or 10% shareholder of a public company?",
            "control_person_companies": "Which companies (ticker symbols)?",
            "is_affiliated_with_broker": "Are you employed by or associated with a "
            "broker-dealer, FINRA or a securities exchange?",
            "affiliated_firm": "Which firm?",
            "is_politically_exposed": "Are you a senior political figure, or a family member "
            "or close associate of one?",
            "politically_exposed_details": "Position and country",
        }


class TrustedContactForm(StepForm):
    title = "Trusted contact"
    intro = (
        "A person we may contact if we cannot reach you or suspect financial "
        "exploitation (FINRA Rule 4512). You may decline."
    )
    show_when = {
        name: ("trusted_contact_declined", ("false",))
        for name in (
            "trusted_contact_name",
            "trusted_contact_email",
            "trusted_contact_phone",
            "trusted_contact_relationship",
        )
    }

    class Meta(StepForm.Meta):
        fields = (
            "trusted_contact_declined",
            "trusted_contact_name",
            "trusted_contact_email",
            "trusted_contact_phone",
            "trusted_contact_relationship",
        )
        widgets = {
            "trusted_contact_declined": forms.RadioSelect(
                choices=[("false", "I name a trusted contact"), ("true", "I decline")]
            )
        }
        labels = {"trusted_contact_declined": "Trusted contact person"}


class ReviewForm(BootstrapMixin, forms.Form):
    """Tax certification, agreements, and submission."""

    title = "Review and submit"

    treaty_country = forms.ChoiceField(
        required=False,
        label="Treaty country (W-8BEN Part II)",
        help_text="Your country of tax residence, if it has an income tax treaty with the "
        "United States and you claim its reduced rate of withholding.",
    )
    treaty_article = forms.CharField(
        required=False,
        max_length=50,
        label="Treaty article",
        help_text="The treaty article and paragraph, e.g. Article 10(2)(b).",
    )
    tax_certification_signature = forms.CharField(
        max_length=200,
        label="Signature: type your full legal name",
    )
    agreements = forms.MultipleChoiceField(
        choices=Agreement.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="I have read and accept",
    )

    def __init__(self, *args, application, **kwargs):
        super().__init__(*args, **kwargs)
        self.application = application
        # Each agreement to accept, with a link to read its current version.
        self.fields["agreements"].choices = [
            (name, agreement_label(name))
            for name in rules.required_agreements(application.account_type)
        ]
        if application.tax_form != "w8ben":
            del self.fields["treaty_country"], self.fields["treaty_article"]
        else:
            self.fields["treaty_country"].choices = [
                ("", "No treaty benefits claimed"),
                *((code, name) for code, name in countries),
            ]

    def changes(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "agreements"}


def agreement_label(name: str):
    document = agreements.document(name)
    return format_html(
        '{} <a href="{}" target="_blank" rel="noopener" class="small">read it (version {})</a>',
        document.title,
        reverse("agreement", args=[name]),
        document.version,
    )


STEPS = [
    ("account-type", AccountTypeForm),
    ("identity", IdentityForm),
    ("address", AddressForm),
    ("tax-id", TaxIdForm),
    ("profile", ProfileForm),
    ("disclosures", DisclosuresForm),
    ("trusted-contact", TrustedContactForm),
    ("review", ReviewForm),
]
STEP_TITLES = {slug: form.title for slug, form in STEPS}
STEP_OF_FIELD = {name: slug for slug, form in STEPS for name in form.base_fields}


def _display(application: AccountApplication, name: str) -> str:
    if name in ("tax_id", "foreign_tax_id"):
        return getattr(application, f"{name}_masked")
    value = getattr(application, name)
    if name == "trusted_contact_declined" and value is not None:
        return "Declined" if value else "Named"
    if name == "mailing_same_as_residential":
        return "Same as the residential address" if value else "Given below"
    if name in ("phone", "trusted_contact_phone") and value:
        try:
            number = phonenumbers.parse(value)
        except phonenumbers.NumberParseException:
            return value
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    if hasattr(value, "code"):  # a country
        return value.name or ""
    if name in ("state", "mailing_state") and value:
        country = getattr(application, "country" if name == "state" else "mailing_country")
        region = rules.REGIONS.get(country.code or "", {}).get(value)
        return f"{region} ({value})" if region else value
    field = AccountApplication._meta.get_field(name)
    if field.choices and value not in (None, ""):
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if value is None:
        return ""
    if hasattr(value, "strftime"):
        return value.strftime("%B %-d, %Y")
    return str(value)


def summary(application: AccountApplication) -> list[dict]:
    """The whole application, step by step, as the applicant sees it on Review: each
    step's title and link, what applies of it, and what it still lacks."""
    sections = []
    for slug, form_class in STEPS:
        if form_class is ReviewForm:
            continue
        form = form_class(instance=application)
        labels = dict(form.summary_fields())
        missing = step_missing(application, labels)
        rows = []
        for name in labels:
            flag = name == "mailing_same_as_residential" or name.endswith("_not_issued")
            if flag and not getattr(application, name):
                continue
            value = _display(application, name)
            if value or name in missing:
                label = "Mailing address" if name == "mailing_same_as_residential" else labels[name]
                rows.append({"label": label, "value": value, "name": name})
        sections.append(
            {
                "slug": slug,
                "title": form_class.title,
                "rows": rows,
                "missing": [labels[n] for n in missing],
            }
        )
    return sections
