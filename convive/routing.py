"""Websocket routes; each app that pushes live events adds its consumers here."""

websocket_urlpatterns: list = []
