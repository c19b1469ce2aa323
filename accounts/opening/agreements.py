"""The documents an applicant accepts: each has a current version, and every version
ever offered stays readable (an acceptance names the version that was read)."""

from dataclasses import dataclass
from datetime import date

from accounts.opening.models import Agreement


@dataclass(frozen=True)
class AgreementDocument:
    agreement: str
    version: str
    effective: date

    @property
    def title(self) -> str:
        return Agreement(self.agreement).label

    @property
    def template(self) -> str:
        return f"opening/agreements/{self.agreement}-{self.version}.html"


# Every version published, oldest first; the last of each agreement is the current one.
# A new version: add a line and its template; acceptances of the old one stay valid for
# applications already submitted, drafts are asked to accept the new one.
PUBLISHED = [
    AgreementDocument(Agreement.CUSTOMER, "2026-01", date(2026, 1, 2)),
    AgreementDocument(Agreement.SELF_DIRECTED, "2026-01", date(2026, 1, 2)),
    AgreementDocument(Agreement.MARGIN, "2026-01", date(2026, 1, 2)),
    AgreementDocument(Agreement.E_SIGN, "2026-01", date(2026, 1, 2)),
]

CURRENT: dict[str, AgreementDocument] = {str(d.agreement): d for d in PUBLISHED}
CURRENT_VERSIONS: dict[str, str] = {name: d.version for name, d in CURRENT.items()}


def document(agreement: str, version: str | None = None) -> AgreementDocument | None:
    """The published document (its current version when `version` is None)."""
    if version is None:
        return CURRENT.get(agreement)
    for published in PUBLISHED:
        if published.agreement == agreement and published.version == version:
            return published
    return None
