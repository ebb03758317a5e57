"""The long-running MQTT client behind ``convive mqtt_listen`` (paho-mqtt).

A persistent session (``clean_session=False``, a fixed client id) and QoS 1 subscriptions: the
broker keeps the messages that arrive while the listener restarts, and paho acknowledges each
one only after ``on_message`` has handled it, so a crash means a redelivery, not a loss (a
replayed press is then refused by its counter). paho reconnects by itself, waiting 1 s to 30 s.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from django.db import close_old_connections, connections

from convive.integrations.mqtt import BrokerAddress, subscriptions
from convive.integrations.mqtt.handlers import Outcome, handle_message

logger = logging.getLogger(__name__)
QOS = 1
KEEPALIVE_SECONDS = 30


class Listener:
    """Subscribes to every city's panic and position topics and hands each message on."""

    def __init__(
        self,
        broker: BrokerAddress,
        *,
        prefix: str,
        client_id: str,
        handler: Callable[..., Outcome] = handle_message,
    ):
        self.broker = broker
        self.prefix = prefix
        self.handler = handler
        self.client = mqtt.Client(
            callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=False,
            protocol=mqtt.MQTTv311,
        )
        if broker.username:
            self.client.username_pw_set(broker.username, broker.password)
        if broker.tls:
            self.client.tls_set()
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.subscribed = False

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason, props) -> None:  # noqa: ANN001
        if reason.is_failure:
            logger.error("MQTT broker %s refused the connection: %s", self.broker.host, reason)
            return
        client.subscribe([(topic, QOS) for topic in subscriptions(self.prefix)])
        self.subscribed = True
        logger.info("Listening on %s:%s under %s/", self.broker.host, self.broker.port, self.prefix)

    def _on_disconnect(self, client, userdata, flags, reason, props) -> None:  # noqa: ANN001
        self.subscribed = False
        connections.close_all()  # this thread's database connections: none left open on stop
        if reason.is_failure:
            logger.warning("MQTT connection lost (%s); reconnecting", reason)

    def _on_message(self, client, userdata, message: mqtt.MQTTMessage) -> None:  # noqa: ANN001
        close_old_connections()  # a long-lived process: drop connections the database closed
        self.handler(message.topic, message.payload, prefix=self.prefix)

    def run_forever(self) -> None:
        """Connect (retrying until the broker answers) and handle messages until stopped."""
        self.client.connect_async(self.broker.host, self.broker.port, KEEPALIVE_SECONDS)
        self.client.loop_forever(retry_first_connection=True)

    def start(self) -> None:
        """Handle messages in a background thread (tests, or an embedding process)."""
        self.client.connect_async(self.broker.host, self.broker.port, KEEPALIVE_SECONDS)
        self.client.loop_start()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
