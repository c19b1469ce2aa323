"""The profile page's forms: they only carry text to `accounts.profile.changes`, which
checks it with the application's own rules."""

from django import forms
from django_countries import countries

from accounts.profile.models import Delivery
from rushtrade.forms import BootstrapMixin


def _country_choices():
    return [("", "Choose a country"), *countries]


class NameForm(BootstrapMixin, forms.Form):
    given_name = forms.CharField(label="Given name", max_length=100)
    middle_name = forms.CharField(label="Middle name", max_length=100, required=False)
    family_name = forms.CharField(label="Family name", max_length=100)


class AddressForm(BootstrapMixin, forms.Form):
    street_address = forms.CharField(label="Street address", max_length=200)
    street_address_2 = forms.CharField(label="Apartment, suite", max_length=200, required=False)
    city = forms.CharField(label="City", max_length=100)
    state = forms.CharField(
        label="State, province or region",
        max_length=40,
        required=False,
        help_text="Needed in the US, Canada and Ukraine (a code like TX or the name).",
    )
    postal_code = forms.CharField(label="Postal code", max_length=20)
    country = forms.ChoiceField(label="Country", choices=_country_choices)


class MailingAddressForm(BootstrapMixin, forms.Form):
    mailing_same_as_residential = forms.BooleanField(
        label="Same as my residential address", required=False
    )
    mailing_street_address = forms.CharField(label="Street address", max_length=200, required=False)
    mailing_city = forms.CharField(label="City", max_length=100, required=False)
    mailing_state = forms.CharField(
        label="State, province or region", max_length=40, required=False
    )
    mailing_postal_code = forms.CharField(label="Postal code", max_length=20, required=False)
    mailing_country = forms.ChoiceField(label="Country", choices=_country_choices, required=False)


class PhoneForm(BootstrapMixin, forms.Form):
    phone = forms.CharField(
        label="Phone",
        max_length=30,
        help_text="With the country code for a number outside your country, e.g. +49 30 1234567.",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )


class DeliveryForm(BootstrapMixin, forms.Form):
    statement_delivery = forms.ChoiceField(
        label="Monthly statements", choices=Delivery.choices, widget=forms.RadioSelect
    )
    confirmation_delivery = forms.ChoiceField(
        label="Trade confirmations", choices=Delivery.choices, widget=forms.RadioSelect
    )
