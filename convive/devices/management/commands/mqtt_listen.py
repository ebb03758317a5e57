import logging

from django.conf import settings
from django.core.management.base import BaseCommand

from convive.integrations.mqtt import parse_broker_url
from convive.integrations.mqtt.listener import Listener

logger = logging.getLogger("convive.integrations.mqtt")


class Command(BaseCommand):
    help = (
        "Listen to the MQTT broker (MQTT_URL) for panic presses and unit positions, and keep "
        "them; reconnects by itself. Stop with Ctrl-C."
    )

    def handle(self, *args, **options) -> None:
        broker = parse_broker_url(settings.MQTT_URL)
        listener = Listener(
            broker, prefix=settings.MQTT_TOPIC_PREFIX, client_id=settings.MQTT_CLIENT_ID
        )
        self.stderr.write(
            f"Listening on {broker.host}:{broker.port} under {settings.MQTT_TOPIC_PREFIX}/ "
            f"as {settings.MQTT_CLIENT_ID}"
        )
        try:
            listener.run_forever()
        except KeyboardInterrupt:
            listener.stop()
