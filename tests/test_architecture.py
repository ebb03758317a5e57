"""House rules that the code itself must keep (STYLE.md sections 2 and 8), checked on the AST."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "convive"


def modules() -> list[Path]:
    return [
        path
        for path in PACKAGE.rglob("*.py")
        if "migrations" not in path.parts and "tests" not in path.parts
    ]


def calls(path: Path) -> list[tuple[ast.Call, str]]:
    """Every call in ``path`` with the called name (``foo`` or the attribute ``x.foo``)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            found.append((node, name))
    return found


def where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(ROOT)}:{node.lineno}"


def test_only_actions_write_the_audit_log_and_publish_events():
    allowed = {"actions.py"}
    wrong = [
        where(path, node)
        for path in modules()
        for node, name in calls(path)
        if name in {"record_audit_event", "publish_on_commit"}
        and path.name not in allowed
        and path.parent.name != "actions"
    ]
    assert wrong == []


WRITES = {
    "save",
    "create",
    "bulk_create",
    "bulk_update",
    "delete",
    "get_or_create",
    "update_or_create",
}
READ_ONLY_LAYERS = {
    "views.py",
    "api.py",
    "access.py",
    "queries.py",
    "consumers.py",
    "forms.py",
    "schemas.py",
    "audit_views.py",
}


def test_views_endpoints_and_reads_do_not_write_models():
    wrong = [
        where(path, node)
        for path in modules()
        if path.name in READ_ONLY_LAYERS
        for node, name in calls(path)
        if name in WRITES
    ]
    assert wrong == [], "writes belong in actions.py (do_*/check_*)"


RESTRICTED = {"Incident", "Camera", "Report", "AuditEvent"}


def test_sensitive_objects_are_fetched_through_access_helpers():
    wrong = []
    for path in modules():
        if path.name == "access.py":
            continue
        for node, name in calls(path):
            func = node.func
            if name != "get" or not isinstance(func, ast.Attribute):
                continue
            manager = func.value
            if (
                isinstance(manager, ast.Attribute)
                and manager.attr == "objects"
                and isinstance(manager.value, ast.Name)
                and manager.value.id in RESTRICTED
            ):
                wrong.append(where(path, node))
    assert wrong == []


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_naive_datetimes(path):
    source = path.read_text(encoding="utf-8")
    for node, name in calls(path):
        func = node.func
        if name in {"now", "utcnow", "today"} and isinstance(func, ast.Attribute):
            owner = func.value
            owner_name = getattr(owner, "attr", None) or getattr(owner, "id", "")
            naive = owner_name in {"datetime", "date"} and not (node.args or node.keywords)
            assert not naive, f"{where(path, node)}: use django.utils.timezone.now() (aware)"
    assert "utcnow(" not in source
