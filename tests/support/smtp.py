"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives."""

from __future__ import annotations

import asyncio
import email
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message

from aiosmtpd.controller import Controller

from tests.support.live_server import free_port


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        with self._lock:
            return [m for m in self.messages if address in m["To"]]

    def to_subject(self, part: str) -> list[Message]:
        """Messages whose subject contains `part` (a confirmation code, say)."""
        with self._lock:
            return [m for m in self.messages if part in m["Subject"]]


class SlowInbox(Inbox):
    """An inbox that takes `seconds` to accept each message (a slow or distant mail server)."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(self.seconds)
        return await super().handle_DATA(server, session, envelope)


@contextmanager
def smtp_server(inbox: Inbox | None = None, port: int | None = None) -> Iterator[tuple[Inbox, int]]:
    """Serve `inbox` (a new one by default) on `port` (a free one by default) until the block ends."""
    inbox = inbox or Inbox()
    port = port or free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()
