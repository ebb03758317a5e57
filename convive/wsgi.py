"""WSGI entry point (plain HTTP only; production uses ``convive.asgi`` for websockets)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "convive.settings")
application = get_wsgi_application()
