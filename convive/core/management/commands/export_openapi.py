import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Write the API's OpenAPI document to docs/openapi.json (the committed reference)."

    def handle(self, *args, **options) -> None:
        from convive.api import api

        target = Path(settings.BASE_DIR) / "docs" / "openapi.json"
        schema = api.get_openapi_schema()
        target.write_text(json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
        self.stdout.write(f"Wrote {target}.")
