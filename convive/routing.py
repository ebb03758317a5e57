"""Websocket routes; each app that pushes live events adds its consumers here."""

from django.urls import path

from convive.incidents.consumers import ConsoleConsumer

websocket_urlpatterns: list = [
    path("ws/console/", ConsoleConsumer.as_asgi()),
]
