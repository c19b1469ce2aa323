"""US tax withheld from cash dividends (docs/clearing.md, "Dividend withholding").

- A non-resident alien (Form W-8BEN on file) is withheld 30% of a US-source dividend
  (IRC §1441), or the reduced rate of the income tax treaty of the country the W-8BEN
  claims in Part II, when that country is in `TREATY_DIVIDEND_RATES`.
- A US person with a Form W-9 on file: nothing.
- No tax certification on file at all (an account staff opened without an application):
  backup withholding at 24% (IRC §3406(a)(1)(A): no TIN certified).
"""

from dataclasses import dataclass
from decimal import Decimal

from accounts.money.models import JournalEntryKind
from accounts.opening.models import Account, TaxForm

STATUTORY_NRA_RATE = Decimal("0.30")
BACKUP_WITHHOLDING_RATE = Decimal("0.24")

# Dividends paid by US corporations to individuals, general rate (Form 1042-S income
# code 06), by treaty country (ISO 3166 alpha-2). Source: IRS, "Tax Treaty Tables",
# Table 1, Tax Rates on Income Other Than Personal Service Income (Rev. February 2019),
# https://www.irs.gov/individuals/international-taxpayers/tax-treaty-tables; read
# 2026-11-30. Only common countries; one not listed is withheld the statutory 30%
# (with a WARNING if the W-8BEN claims it). Check against the IRS's current revision
# before relying on it: treaties change (Hungary's ended in 2024, for one).
TREATY_DIVIDEND_RATES: dict[str, Decimal] = {
    "AT": Decimal("0.15"),  # Austria
    "AU": Decimal("0.15"),  # Australia
    "BE": Decimal("0.15"),  # Belgium
    "CA": Decimal("0.15"),  # Canada
    "CH": Decimal("0.15"),  # Switzerland
    "CN": Decimal("0.10"),  # China
    "DE": Decimal("0.15"),  # Germany
    "DK": Decimal("0.15"),  # Denmark
    "ES": Decimal("0.15"),  # Spain
    "FI": Decimal("0.15"),  # Finland
    "FR": Decimal("0.15"),  # France
    "GB": Decimal("0.15"),  # United Kingdom
    "IE": Decimal("0.15"),  # Ireland
    "IL": Decimal("0.25"),  # Israel
    "IN": Decimal("0.25"),  # India
    "IT": Decimal("0.15"),  # Italy
    "JP": Decimal("0.10"),  # Japan
    "KR": Decimal("0.15"),  # South Korea
    "MX": Decimal("0.10"),  # Mexico
    "NL": Decimal("0.15"),  # Netherlands
    "NO": Decimal("0.15"),  # Norway
    "NZ": Decimal("0.15"),  # New Zealand
    "PH": Decimal("0.25"),  # Philippines
    "SE": Decimal("0.15"),  # Sweden
    "ZA": Decimal("0.15"),  # South Africa
}


@dataclass(frozen=True)
class Withholding:
    rate: Decimal  # 0: none
    kind: JournalEntryKind | None  # the journal entry kind of the tax withheld
    basis: str  # why, for the entry's description

    @property
    def withheld(self) -> bool:
        return self.rate > 0


NONE = Withholding(Decimal("0"), None, "W-9 on file")


def dividend_withholding(tax_form: str, treaty_country: str) -> tuple[Withholding, bool]:
    """The withholding on a dividend to a holder with `tax_form` (w9, w8ben, or blank)
    claiming `treaty_country` (blank: no claim); and whether a claimed treaty country
    was not found in the table (the caller warns)."""
    if tax_form == TaxForm.W9:
        return NONE, False
    if tax_form == TaxForm.W8BEN:
        country = (treaty_country or "").upper()
        rate = TREATY_DIVIDEND_RATES.get(country)
        if rate is not None:
            return Withholding(rate, JournalEntryKind.NRA_WITHHOLDING, f"{country} treaty"), False
        basis = f"NRA, {country} treaty rate not on file" if country else "NRA, no treaty"
        return (
            Withholding(STATUTORY_NRA_RATE, JournalEntryKind.NRA_WITHHOLDING, basis),
            bool(country),
        )
    return (
        Withholding(BACKUP_WITHHOLDING_RATE, JournalEntryKind.BACKUP_WITHHOLDING, "no W-9"),
        False,
    )


def tax_status(account: Account) -> tuple[str, str]:
    """(tax form, treaty country) on file for the account's application."""
    application = account.application if account.application_id else None
    if application is None:
        return "", ""
    return application.tax_form or "", str(application.treaty_country or "")
