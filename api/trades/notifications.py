"""Emails about trades, written by the outbox worker: the offer to its target, the answer to both guests."""

from __future__ import annotations

import uuid
from typing import Any
from zoneinfo import ZoneInfo

from flask import render_template

from api.accounts.models import User
from api.booking.models import Reservation
from api.db import atomic
from api.extensions import db
from api.mail import enqueue_email
from api.outbox import service as outbox_service
from api.trades import service
from api.trades.models import Trade

# event -> (who is told, subject): "requester", "target" or both.
_WHO = {
    "proposed": (("target",), "A guest would like to swap reservations with you"),
    "accepted": (("requester", "target"), "Your reservations have been swapped"),
    "rejected": (("requester",), "Your trade was declined"),
    "withdrawn": (("target",), "A trade offered to you was withdrawn"),
}


def send_trade_emails(payload: dict[str, Any]) -> None:
    event = payload["event"]
    if event not in _WHO:
        return
    with atomic():
        trade = db.session.get(Trade, uuid.UUID(payload["trade_id"]))
        if trade is None:
            return
        sides, subject = _WHO[event]
        for side in sides:
            user = db.session.get(User, getattr(trade, f"{side}_id"))
            if user is None:
                continue
            own, other = (trade.requester_reservation, trade.target_reservation)[:: 1 if side == "requester" else -1]
            context = {
                "trade": trade,
                "event": event,
                "guest_name": user.name or "guest",
                "restaurant": own.restaurant,
                "yours": _describe(own),
                "theirs": _describe(other),
            }
            enqueue_email(
                to=user.email,
                subject=f"{subject} - {trade.requester_reservation.restaurant.name}",
                text=render_template("email/trade.txt", **context),
                html=render_template("email/trade.html", **context),
                message_key=f"trade:{trade.id}:{event}:{side}",
            )


def _describe(reservation: Reservation) -> str:
    local = reservation.starts_at.astimezone(ZoneInfo(reservation.restaurant.timezone))
    return (
        f"{reservation.confirmation_code}: {local:%A %d %B %Y at %H:%M}, "
        f"party of {reservation.party_size}, table {reservation.table.number}"
    )


def register() -> None:
    outbox_service.register_handler(service.TRADE_EVENT, send_trade_emails)
