"""Funding and activity forms."""

# --- The account application wizard -----------------------------------------------------

from django import forms

# --- Funding ---------------------------------------------------------------------------------
from accounts.money.models import BankAccountType, JournalEntryKind, TransferDirection
from rushtrade.forms import BootstrapMixin


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
