"""Audit tags: ``source:subject:action``, one per kind of recorded event.

``docs/permissions.md`` lists every tag with what records it; ``tests/test_docs.py`` holds the two
together.
"""

from enum import StrEnum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class AuditTag(StrEnum):
    ACCOUNT_LOGIN_SUCCEEDED = "account:login:succeeded"
    ACCOUNT_LOGIN_FAILED = "account:login:failed"
    ACCOUNT_LOGIN_LOCKED_OUT = "account:login:locked_out"
    ACCOUNT_SESSION_ENDED = "account:session:ended"
    ACCOUNT_OTP_ENROLLED = "account:otp:enrolled"
    ACCOUNT_OTP_VERIFIED = "account:otp:verified"
    ACCOUNT_OTP_FAILED = "account:otp:failed"
    ACCOUNT_OTP_RESET = "account:otp:reset"
    ADMIN_OBJECT_ADDED = "admin:object:added"
    ADMIN_OBJECT_CHANGED = "admin:object:changed"
    ADMIN_OBJECT_DELETED = "admin:object:deleted"
    INSTITUTION_MEMBER_ADDED = "institution:member:added"
    INSTITUTION_MEMBER_CHANGED = "institution:member:changed"
    INSTITUTION_MEMBER_REMOVED = "institution:member:removed"
    TERRITORY_LAYER_IMPORTED = "territory:layer:imported"
    AUDIT_LOG_EXPORTED = "audit:log:exported"
    DEMO_CITY_LOADED = "demo:city:loaded"
    REPORT_DETAIL_VIEWED = "report:detail:viewed"
    REPORT_STATUS_CHANGED = "report:status:changed"
    REPORT_REPLY_SENT = "report:reply:sent"
    REPORT_NOTE_ADDED = "report:note:added"
    REPORT_ASSIGNEE_CHANGED = "report:assignee:changed"
    REPORT_INSTITUTION_CHANGED = "report:institution:changed"
    REPORT_HIDDEN = "report:visibility:hidden"
    REPORT_SHOWN = "report:visibility:shown"
    REPORT_REPORTER_RESTRICTED = "report:reporter:restricted"
    OPEN311_KEY_CREATED = "open311:api_key:created"
    OPEN311_KEY_REVOKED = "open311:api_key:revoked"
    UNIT_CREATED = "unit:fleet:added"
    UNIT_UPDATED = "unit:fleet:changed"
    UNIT_STATUS_CHANGED = "unit:status:changed"
    INCIDENT_CREATED = "incident:record:created"
    INCIDENT_UPDATED = "incident:record:updated"
    INCIDENT_VIEWED = "incident:detail:viewed"
    INCIDENT_LINKED = "incident:record:linked"
    INCIDENT_MERGED = "incident:record:merged"
    INCIDENT_PRIORITY_CHANGED = "incident:priority:changed"
    INCIDENT_STATUS_CHANGED = "incident:status:changed"
    INCIDENT_UNIT_DISPATCHED = "incident:unit:dispatched"
    INCIDENT_TIMES_REBUILT = "incident:times:rebuilt"
    INCIDENT_NOTE_ADDED = "incident:note:added"
    INCIDENT_TRANSFERRED = "incident:institution:changed"
    INCIDENT_CLOSED = "incident:record:closed"
    INCIDENT_REOPENED = "incident:record:reopened"
    INCIDENT_VICTIM_REFERRED = "incident:victim:referred"
    INCIDENT_TYPES_INSTALLED = "incident:catalogue:installed"
    DEVICE_PANIC_BUTTON_CREATED = "device:panic_button:created"
    DEVICE_PANIC_BUTTON_KEY_ROTATED = "device:panic_button:key_rotated"
    DEVICE_MESSAGE_REFUSED = "device:message:refused"


# What the audit log page, its export and the API show for each tag. Every tag has a label
# (``convive/core/tests/test_audit_log.py`` checks); old tags stay here after they stop being used.
AUDIT_TAG_LABELS: dict[AuditTag, Promise] = {
    AuditTag.ACCOUNT_LOGIN_SUCCEEDED: _("Staff login"),
    AuditTag.ACCOUNT_LOGIN_FAILED: _("Failed staff login"),
    AuditTag.ACCOUNT_LOGIN_LOCKED_OUT: _("Staff login locked out"),
    AuditTag.ACCOUNT_SESSION_ENDED: _("Staff logout"),
    AuditTag.ACCOUNT_OTP_ENROLLED: _("Second factor enrolled"),
    AuditTag.ACCOUNT_OTP_VERIFIED: _("Second-factor code accepted"),
    AuditTag.ACCOUNT_OTP_FAILED: _("Second-factor code refused"),
    AuditTag.ACCOUNT_OTP_RESET: _("Second factor reset by an administrator"),
    AuditTag.ADMIN_OBJECT_ADDED: _("Added in the admin site"),
    AuditTag.ADMIN_OBJECT_CHANGED: _("Changed in the admin site"),
    AuditTag.ADMIN_OBJECT_DELETED: _("Deleted in the admin site"),
    AuditTag.INSTITUTION_MEMBER_ADDED: _("Team member added"),
    AuditTag.INSTITUTION_MEMBER_CHANGED: _("Team member changed"),
    AuditTag.INSTITUTION_MEMBER_REMOVED: _("Team member removed"),
    AuditTag.TERRITORY_LAYER_IMPORTED: _("Territory layer imported"),
    AuditTag.AUDIT_LOG_EXPORTED: _("Audit log exported"),
    AuditTag.DEMO_CITY_LOADED: _("Demo city loaded"),
    AuditTag.REPORT_DETAIL_VIEWED: _("Report opened by staff"),
    AuditTag.REPORT_STATUS_CHANGED: _("Report status changed"),
    AuditTag.REPORT_REPLY_SENT: _("Reply sent to the citizen"),
    AuditTag.REPORT_NOTE_ADDED: _("Internal note added to a report"),
    AuditTag.REPORT_ASSIGNEE_CHANGED: _("Report assigned"),
    AuditTag.REPORT_INSTITUTION_CHANGED: _("Report sent to another institution"),
    AuditTag.REPORT_HIDDEN: _("Report hidden by moderation"),
    AuditTag.REPORT_SHOWN: _("Report shown again"),
    AuditTag.REPORT_REPORTER_RESTRICTED: _("Reporter restricted"),
    AuditTag.OPEN311_KEY_CREATED: _("Open311 API key created"),
    AuditTag.OPEN311_KEY_REVOKED: _("Open311 API key revoked"),
    AuditTag.UNIT_CREATED: _("Unit added to the fleet"),
    AuditTag.UNIT_UPDATED: _("Unit details changed"),
    AuditTag.UNIT_STATUS_CHANGED: _("Unit status changed"),
    AuditTag.INCIDENT_CREATED: _("Incident created"),
    AuditTag.INCIDENT_UPDATED: _("Incident updated"),
    AuditTag.INCIDENT_VIEWED: _("Incident opened by staff"),
    AuditTag.INCIDENT_LINKED: _("Incidents linked"),
    AuditTag.INCIDENT_MERGED: _("Duplicate incident merged"),
    AuditTag.INCIDENT_PRIORITY_CHANGED: _("Incident priority changed"),
    AuditTag.INCIDENT_STATUS_CHANGED: _("Incident status changed"),
    AuditTag.INCIDENT_UNIT_DISPATCHED: _("Unit dispatched to an incident"),
    AuditTag.INCIDENT_TIMES_REBUILT: _("Incidents' step times recomputed from their timelines"),
    AuditTag.INCIDENT_NOTE_ADDED: _("Note added to an incident"),
    AuditTag.INCIDENT_TRANSFERRED: _("Incident handed to another institution"),
    AuditTag.INCIDENT_CLOSED: _("Incident closed"),
    AuditTag.INCIDENT_REOPENED: _("Incident reopened"),
    AuditTag.INCIDENT_VICTIM_REFERRED: _("Victim referred to a support service, with consent"),
    AuditTag.INCIDENT_TYPES_INSTALLED: _("Incident-type catalogue installed"),
    AuditTag.DEVICE_PANIC_BUTTON_CREATED: _("Panic button registered"),
    AuditTag.DEVICE_PANIC_BUTTON_KEY_ROTATED: _("Panic button signing key changed"),
    AuditTag.DEVICE_MESSAGE_REFUSED: _("Message from a panic button refused"),
}


def audit_tag_label(tag: str) -> str:
    """The readable label of ``tag``; the tag itself when it has none."""
    try:
        return str(AUDIT_TAG_LABELS[AuditTag(tag)])
    except (KeyError, ValueError):
        return tag
