"""API schemas for the audit log (``/api/v1/audit``)."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from ninja import Field, Schema
from pydantic import ValidationInfo, field_validator

from convive.core.models import AuditEvent
from convive.core.queries import AuditFilters
from convive.core.tags import AuditTag, audit_tag_label


class AuditEventFilters(Schema):
    """Query parameters of ``GET /api/v1/audit/events``: the log page's filters, and paging."""

    tag: AuditTag | None = None
    actor: str | None = Field(None, max_length=150, description="Username, any case.")
    institution: int | None = Field(None, description="Institution id.")
    subject_type: str | None = Field(None, max_length=80, examples=["accounts.user"])
    subject_id: str | None = Field(None, max_length=64)
    date_from: date | None = Field(None, description="First day, in the site's time zone.")
    date_to: date | None = Field(None, description="Last day, included.")
    cursor: str | None = Field(None, description="`next_cursor` of the previous page.")
    limit: int = Field(50, ge=1, le=200)

    @field_validator("date_to")
    @classmethod
    def dates_in_order(cls, date_to: date | None, info: ValidationInfo) -> date | None:
        date_from = info.data.get("date_from")
        if date_from and date_to and date_from > date_to:
            raise ValueError("date_to is before date_from")
        return date_to

    def to_filters(self) -> AuditFilters:
        return AuditFilters(
            tag=str(self.tag or ""),
            actor=self.actor or "",
            institution_id=self.institution,
            subject_type=self.subject_type or "",
            subject_id=self.subject_id or "",
            date_from=self.date_from,
            date_to=self.date_to,
        )


class AuditEventPublic(Schema):
    """One entry as recorded. ``hash`` and ``prev_hash`` let a reader check the chain."""

    id: int
    seq: int
    created_at: datetime
    actor_user_id: int | None
    actor_username: str
    actor_roles: list[str]
    institution_id: int | None
    institution_name: str
    tag: str
    tag_label: str
    subject_type: str
    subject_id: str
    subject_repr: str
    reason: str
    data: dict[str, Any]
    prev_hash: str
    hash: str

    @staticmethod
    def resolve_actor_roles(obj: AuditEvent) -> list[str]:
        return [role for role in obj.actor_roles.split(",") if role]

    @staticmethod
    def resolve_tag_label(obj: AuditEvent) -> str:
        return audit_tag_label(obj.tag)

    @staticmethod
    def resolve_data(obj: AuditEvent) -> dict[str, Any]:
        try:
            value = json.loads(obj.data)
        except ValueError:  # only a hand-edited row; audit_verify names it
            return {"unparsed": obj.data}
        return value if isinstance(value, dict) else {"value": value}


class AuditEventsPublic(Schema):
    """A page of entries, newest first. ``count`` counts every match, not just this page."""

    data: list[AuditEventPublic]
    count: int
    next_cursor: str | None = Field(None, description="Pass as `cursor` for older entries.")
