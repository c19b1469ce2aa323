"""The steps of the account application wizard."""

# --- The account application wizard -----------------------------------------------------

from django import forms
from django_countries import countries

from accounts.opening.models import AccountApplication, AccountType, Agreement
from rushtrade.forms import BootstrapMixin

# --- Funding ---------------------------------------------------------------------------------


YES_NO = forms.RadioSelect(choices=[("true", "Yes"), ("false", "No")])


class StepForm(BootstrapMixin, forms.ModelForm):
    """One step of the application; the service validates the values per country."""

    title = ""
    intro = ""

    class Meta:
        model = AccountApplication
        fields: tuple = ()

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.fields}


class AccountTypeForm(StepForm):
    title = "Account type"
    intro = (
        "Every RushTrade account is self-directed: you choose your investments and we "
        "give no advice. Joint and IRA accounts are coming soon."
    )

    class Meta(StepForm.Meta):
        fields = ("account_type",)
        widgets = {"account_type": forms.RadioSelect}


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


class AddressForm(StepForm):
    title = "Address"
    intro = (
        "Your residential address (for a US address, not a PO box). State, province or "
        "region: use the two-letter code, e.g. TX or ON."
    )

    class Meta(StepForm.Meta):
        fields = (
            "street_address",
            "street_address_2",
            "city",
            "state",
            "postal_code",
            "country",
            "mailing_same_as_residential",
            "mailing_street_address",
            "mailing_city",
            "mailing_state",
            "mailing_postal_code",
            "mailing_country",
        )
        labels = {
            "state": "State / province / region",
            "mailing_same_as_residential": "My mailing address is the same",
        }


class TaxIdForm(StepForm):
    title = "Tax identity"
    intro = (
        "US citizens and residents: your SSN or ITIN. Everyone else: a passport or "
        "national ID number, and your country's tax id. Stored encrypted; we only "
        "ever show the last four characters."
    )
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
        if self.instance.tax_id_last4:
            self.fields[
                "tax_id"
            ].help_text = f"On file: {self.instance.tax_id_masked}. Leave blank to keep it."
        if self.instance.foreign_tax_id_last4:
            self.fields[
                "foreign_tax_id"
            ].help_text = f"On file: {self.instance.foreign_tax_id_masked}. Leave blank to keep it."

    def changes(self) -> dict:
        changes = super().changes()
        for name in ("tax_id", "foreign_tax_id"):
            if not changes[name]:
                changes.pop(name)  # blank keeps what is on file
        return changes


class ProfileForm(StepForm):
    title = "Employment and finances"

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
        if application.account_type != AccountType.INDIVIDUAL_MARGIN:
            self.fields["agreements"].choices = [
                c for c in Agreement.choices if c[0] != Agreement.MARGIN
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
