"""Audit tags: ``source:subject:action``, one per kind of recorded event.

``docs/permissions.md`` lists every tag with what records it; ``tests/test_docs.py`` holds the two
together.
"""

from enum import StrEnum


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
