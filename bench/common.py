"""What every benchmark needs: the repository's paths and Django on a throwaway database."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOUNDARIES = ROOT.parent / "shared" / "data" / "boundaries"


def setup_django(scratch: Path) -> None:
    """Django on a throwaway SQLite database in ``scratch``, migrated."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "convive.settings"
    os.environ["CONVIVE_DATA_DIR"] = str(scratch)
    os.environ["DATABASE_URL"] = f"sqlite:///{scratch / 'bench.sqlite3'}"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
