"""Events the command centre publishes to live consoles, after commit (``docs/integrations.md``).

Groups: ``incidents_group(city_id)`` for a city's incidents, ``units_group(city_id)`` for its
units. Every change to an incident writes a timeline step, and each step sends one
``incident.changed`` with the incident as it is once committed (read again then), so a console
never shows a change that was rolled back, and the ``version`` tells it which of two messages is
newer. Consoles that were disconnected catch up through the API (``since`` a version/time).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction

from convive.core.events import publish_now

if TYPE_CHECKING:
    from convive.incidents.models import Incident


def incidents_group(city_id: int) -> str:
    return f"incidents.city.{city_id}"


@dataclass(frozen=True)
class IncidentChanged:
    """An incident was created or changed (``step``: the timeline kind that was written)."""

    incident_id: int
    reference: str
    city_id: int
    version: int
    step: str
    status: str
    priority: int
    type_code: str
    type_name: str
    institution_id: int | None
    locality_id: int | None
    neighbourhood_id: int | None
    lon: float | None
    lat: float | None
    address: str
    summary: str
    created_at: str
    updated_at: str
    type: str = "incident.changed"

    @classmethod
    def of(cls, incident: Incident, step: str) -> IncidentChanged:
        return cls(
            incident_id=incident.pk,
            reference=incident.reference,
            city_id=incident.city_id,
            version=incident.version,
            step=step,
            status=incident.status,
            priority=incident.priority,
            type_code=incident.type.code,
            type_name=incident.type.name_es,
            institution_id=incident.institution_id,
            locality_id=incident.locality_id,
            neighbourhood_id=incident.neighbourhood_id,
            lon=incident.lon,
            lat=incident.lat,
            address=incident.address,
            summary=incident.summary,
            created_at=incident.created_at.isoformat(),
            updated_at=incident.updated_at.isoformat(),
        )


def publish_incident_on_commit(incident_id: int, step: str) -> None:
    """After commit, read the incident as committed and send it to its city's consoles: once per
    transaction, however many steps it wrote (a call writes three), with the last step."""
    pending = transaction.get_connection().run_on_commit
    for _savepoints, queued, _robust in pending:
        if getattr(queued, "incident_id", None) == incident_id:
            queued.step = step
            return

    def send() -> None:
        from convive.incidents.models import Incident

        incident = Incident.objects.select_related("type").filter(pk=incident_id).first()
        if incident is not None:
            event = IncidentChanged.of(incident, send.step)
            publish_now(incidents_group(incident.city_id), event)

    send.incident_id = incident_id  # type: ignore[attr-defined]
    send.step = step  # type: ignore[attr-defined]
    transaction.on_commit(send)
