"""Events the reports app publishes to live consoles (after commit)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from convive.reports.models import Report


@dataclass(frozen=True)
class SosReceived:
    """A citizen pressed SOS (or reported in an urgent category): the command centre must act.

    Sent to the ``sos`` group after commit, for outside listeners; the command-centre incident
    itself is made by the intake, in the same transaction (``actions._open_incident``).
    """

    report_id: int
    category: str
    city: str
    lon: float | None
    lat: float | None
    address: str
    created_at: str
    type: str = "sos.received"

    @classmethod
    def from_report(cls, report: Report) -> SosReceived:
        return cls(
            report_id=report.pk,
            category=report.category.code,
            city=report.city.slug,
            lon=report.lon,
            lat=report.lat,
            address=report.address,
            created_at=report.created_at.isoformat(),
        )
