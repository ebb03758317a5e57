"""Apply Spanish translations given as a JSON object {msgid: msgstr} (file argument or stdin).

Used with ``make messages``: after extraction, new strings are listed as untranslated; write
their translations to a JSON file and run ``python scripts/translate.py file.json``.
"""

import json
import sys
from pathlib import Path

import polib

PO = (
    Path(__file__).resolve().parent.parent
    / "convive"
    / "locale"
    / "es"
    / "LC_MESSAGES"
    / "django.po"
)


def main() -> int:
    if len(sys.argv) > 1:
        translations = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    else:
        translations = json.load(sys.stdin)
    catalogue = polib.pofile(str(PO), wrapwidth=0)
    applied = 0
    for entry in catalogue:
        if entry.msgid in translations:
            entry.msgstr = translations[entry.msgid]
            if entry.fuzzy:
                entry.flags.remove("fuzzy")
            applied += 1
    catalogue.save(str(PO))
    print(f"applied {applied} of {len(translations)} translations to {PO.name}")
    return 0 if applied == len(translations) else 1


if __name__ == "__main__":
    sys.exit(main())
