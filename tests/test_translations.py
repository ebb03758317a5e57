"""Spanish first, English complete: a string without a translation fails the suite."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import polib
import pytest
from django.core.management import call_command
from django.test import override_settings

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "convive" / "locale"


def catalogue(language: str) -> polib.POFile:
    return polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))


def translated(entry: polib.POEntry) -> bool:
    if entry.msgid_plural:
        return all(entry.msgstr_plural.values())
    return bool(entry.msgstr)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> set[str]:
    """Every msgid in the code now, extracted by Django's makemessages into a scratch copy."""
    scratch = tmp_path_factory.mktemp("messages")
    ignore = shutil.ignore_patterns("locale", "migrations", "tests", "__pycache__", "*.pyc")
    shutil.copytree(ROOT / "convive", scratch / "convive", ignore=ignore)
    (scratch / "convive" / "locale").mkdir()
    here = Path.cwd()
    os.chdir(scratch)
    try:
        with override_settings(LOCALE_PATHS=[]):
            call_command("makemessages", locale=["es"], no_wrap=True, verbosity=0)
    finally:
        os.chdir(here)
    po = polib.pofile(str(scratch / "convive" / "locale" / "es" / "LC_MESSAGES" / "django.po"))
    return {entry.msgid for entry in po}


@pytest.mark.parametrize("language", ["es", "en"])
def test_every_string_in_the_code_is_translated(extracted, language):
    done = {entry.msgid for entry in catalogue(language) if translated(entry) and not entry.fuzzy}
    missing = sorted(extracted - done)
    assert missing == [], f"{language}: run `make messages` and translate: {missing[:20]}"


@pytest.mark.parametrize("language", ["es", "en"])
def test_compiled_catalogue_matches_the_po_file(language):
    po = {
        (e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural
        for e in catalogue(language)
        if translated(e) and not e.fuzzy and not e.obsolete
    }
    mo_file = polib.mofile(str(LOCALE / language / "LC_MESSAGES" / "django.mo"))
    mo = {(e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural for e in mo_file if e.msgid}
    assert mo == po, "run: .venv/bin/python scripts/messages.py --compile-only"


def test_spanish_is_the_default_language(client, db):
    response = client.get("/")
    assert response["Content-Language"] == "es"
    assert "Iniciar sesión" in response.content.decode()


def test_the_english_catalogue_is_the_message_ids():
    """English msgids are the English text; a fuzzy guess left by makemessages would show."""
    wrong = [
        e.msgid
        for e in catalogue("en")
        if (
            e.msgstr_plural != {0: e.msgid, 1: e.msgid_plural}
            if e.msgid_plural
            else e.msgstr != e.msgid
        )
    ]
    assert wrong == [], f"run `make messages`: {wrong[:10]}"
