"""The ``convive`` console script: Django's management command with Convive's settings."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "convive.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["convive", *sys.argv[1:]])


if __name__ == "__main__":
    main()
