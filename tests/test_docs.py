"""The documents stay true: settings, tags, README commands, CI, the OpenAPI copy."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from convive.core.tags import AuditTag

ROOT = Path(__file__).resolve().parent.parent
ENV_READERS = {"env_str", "env_bool", "env_int", "env_list", "getenv"}


def variables_read_by_the_code() -> set[str]:
    """Names passed as literals to env_* helpers, os.getenv or os.environ.get/[]."""
    names = set()
    for path in (ROOT / "convive").rglob("*.py"):
        if "tests" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and node.args:
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                environ_get = (
                    name == "get"
                    and isinstance(func, ast.Attribute)
                    and getattr(func.value, "attr", "") == "environ"
                )
                if (name in ENV_READERS or environ_get) and isinstance(node.args[0], ast.Constant):
                    names.add(node.args[0].value)
            environ_item = (
                isinstance(node, ast.Subscript)
                and getattr(node.value, "attr", "") == "environ"
                and isinstance(node.slice, ast.Constant)
            )
            if environ_item:
                names.add(node.slice.value)
    names.discard("DJANGO_SETTINGS_MODULE")  # set by the entry points themselves
    names.discard("DJANGO_ALLOW_ASYNC_UNSAFE")
    return names


def variables_in_env_example() -> set[str]:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    return set(re.findall(r"^([A-Z][A-Z0-9_]*)=", text, re.M))


def test_every_setting_read_by_the_code_is_in_env_example():
    missing = variables_read_by_the_code() - variables_in_env_example()
    assert missing == set(), f"add these to .env.example with a comment: {sorted(missing)}"


def test_env_example_lists_nothing_the_code_ignores():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    unused = {
        name
        for name in variables_in_env_example() - variables_read_by_the_code()
        if name not in makefile
    }
    assert unused == set(), f".env.example lists variables nothing reads: {sorted(unused)}"


def test_every_audit_tag_is_documented():
    text = (ROOT / "docs" / "permissions.md").read_text(encoding="utf-8")
    missing = [str(tag) for tag in AuditTag if f"`{tag}`" not in text]
    assert missing == [], f"document these audit tags in docs/permissions.md: {missing}"


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```[a-z]*\n(.*?)```", text, re.S)
    assert block, "README.md needs a code block with the two commands"
    return [line.strip() for line in block.group(1).splitlines() if line.strip()]


def test_readme_opens_with_the_two_commands():
    assert readme_commands() == ["make run", "make test"]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert readme_commands()[1] in ci


@pytest.mark.parametrize("name", ["decisions", "permissions", "testing", "deploy", "glossary"])
def test_required_documents_exist(name):
    assert (ROOT / "docs" / f"{name}.md").stat().st_size > 500


def test_committed_openapi_matches_the_code():
    from convive.api import api

    committed = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
    generated = json.loads(json.dumps(api.get_openapi_schema(), sort_keys=True))
    assert committed == generated, "run: .venv/bin/convive export_openapi"
