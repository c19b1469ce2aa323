from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from .models import User


class StaffUserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class StaffUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


# --- The account application wizard -----------------------------------------------------

from django import forms  # noqa: E402

from .models import AccountApplication, Agreement, JournalEntryKind  # noqa: E402


class BootstrapMixin:
    """Bootstrap classes on every widget, and `aria-invalid` on fields with errors."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(
                widget, forms.RadioSelect | forms.CheckboxSelectMultiple | forms.CheckboxInput
            ):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                self.fields[name].widget.attrs["aria-invalid"] = "true"


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

    treaty_country = forms.CharField(
        required=False, max_length=2, label="Treaty country (W-8BEN, two-letter code)"
    )
    treaty_article = forms.CharField(required=False, max_length=50, label="Treaty article")
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
        if application.account_type != "individual_margin":
            self.fields["agreements"].choices = [
                c for c in Agreement.choices if c[0] != Agreement.MARGIN
            ]
        if application.tax_form != "w8ben":
            del self.fields["treaty_country"], self.fields["treaty_article"]

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


# --- Funding ---------------------------------------------------------------------------------

from .models import BankAccountType, TransferDirection  # noqa: E402


class BankLinkForm(BootstrapMixin, forms.Form):
    nickname = forms.CharField(max_length=50, required=False, label="Nickname (optional)")
    routing_number = forms.CharField(max_length=12, label="Routing number (ABA)")
    bank_account_number = forms.CharField(
        max_length=20,
        label="Account number",
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )
    bank_account_type = forms.ChoiceField(choices=BankAccountType.choices, label="Type")


class TransferForm(BootstrapMixin, forms.Form):
    direction = forms.ChoiceField(
        choices=TransferDirection.choices,
        widget=forms.RadioSelect,
        initial=TransferDirection.DEPOSIT,
    )
    amount = forms.CharField(
        max_length=30,
        label="Amount (USD)",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "0.00"}),
    )
    bank_link = forms.ChoiceField(label="Bank account")
    client_transfer_id = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, bank_links=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bank_link"].choices = [(link.pk, str(link)) for link in bank_links]


class ActivityFilterForm(BootstrapMixin, forms.Form):
    """Filters of the activity page and its CSV export."""

    kind = forms.ChoiceField(
        choices=[("", "All types"), *JournalEntryKind.choices], required=False, label="Type"
    )
    start = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", "The end date is before the start date.")
        return data

    def filters(self) -> dict:
        """The filters for ledger.cash_postings (valid forms only)."""
        data = self.cleaned_data
        return {
            "kind": data.get("kind") or None,
            "start": data.get("start"),
            "end": data.get("end"),
        }
