"""Extract, fill and compile Convive's translation catalogues (``make messages``).

1. ``makemessages`` collects every translatable string of ``convive/`` into
   ``convive/locale/{es,en}/LC_MESSAGES/django.po`` (message ids are English).
2. The English catalogue gets ``msgstr = msgid`` wherever it is empty: English is complete by
   construction. The Spanish one is translated by people; this script lists what is missing.
3. Both catalogues are compiled to ``.mo`` with polib (no GNU msgfmt needed at run time).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "convive" / "locale"
IGNORE = [
    "*/tests/*",
    "tests/*",
    "bench/*",
    "scripts/*",
    "var/*",
    "artifacts/*",
    "staticfiles/*",
    "conftest.py",
    "*/migrations/*",
]


def extract() -> None:
    import django
    from django.core.management import call_command

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "convive.settings")
    django.setup()
    os.chdir(ROOT)
    call_command(
        "makemessages",
        locale=["es", "en"],
        ignore_patterns=IGNORE,
        no_obsolete=True,
        no_wrap=True,
        verbosity=0,
    )


def fill_english(path: Path) -> int:
    """English msgids are the English text: every msgstr is its msgid (fuzzy guesses dropped)."""
    catalogue = polib.pofile(str(path), wrapwidth=0)
    changed = 0
    for entry in catalogue:
        wanted = {0: entry.msgid, 1: entry.msgid_plural} if entry.msgid_plural else entry.msgid
        current = entry.msgstr_plural if entry.msgid_plural else entry.msgstr
        if current != wanted or entry.fuzzy:
            changed += 1
        if entry.msgid_plural:
            entry.msgstr_plural = wanted
        else:
            entry.msgstr = wanted
        if entry.fuzzy:
            entry.flags.remove("fuzzy")
        entry.previous_msgid = None
        entry.previous_msgid_plural = None
    catalogue.save(str(path))
    return changed


def untranslated(path: Path) -> list[str]:
    catalogue = polib.pofile(str(path))
    return [e.msgid for e in catalogue.untranslated_entries() + catalogue.fuzzy_entries()]


def compile_catalogue(path: Path) -> None:
    polib.pofile(str(path)).save_as_mofile(str(path.with_suffix(".mo")))


def main() -> int:
    if "--compile-only" not in sys.argv:
        extract()
        fill_english(LOCALE / "en" / "LC_MESSAGES" / "django.po")
    for language in ("es", "en"):
        compile_catalogue(LOCALE / language / "LC_MESSAGES" / "django.po")
    missing = untranslated(LOCALE / "es" / "LC_MESSAGES" / "django.po")
    for msgid in missing:
        print(f"untranslated (es): {msgid!r}")
    print(f"es: {len(missing)} untranslated; catalogues compiled.")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
