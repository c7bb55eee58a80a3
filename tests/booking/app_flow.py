"""Restaurants, days and requests for the app frontend flow's tests (holds, checkout, cancellation)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask.testing import FlaskClient

from api.accounts.models import User
from api.extensions import db
from api.restaurants.models import DEFAULT_REFUND_POLICY, Restaurant
from tests.booking.helpers import build_restaurant, settle

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")


def app_restaurant(
    *,
    tables: list[tuple[int, int]] | None = None,
    timezone: str = "America/New_York",
    deposit_per_person_cents: int = 2500,
    refund_policy: list[dict[str, int]] | None = None,
    **kwargs: Any,
) -> Restaurant:
    """A restaurant open daily 17:00-23:00 local, with a deposit and the seed's refund policy."""
    restaurant = build_restaurant(tables=tables or [(2, 2), (2, 4)], timezone=timezone, **kwargs)
    restaurant.name = "Bella Notte"
    restaurant.deposit_per_person_cents = deposit_per_person_cents
    restaurant.refund_policy = list(refund_policy if refund_policy is not None else DEFAULT_REFUND_POLICY)
    restaurant.cuisines = ["Italian"]
    restaurant.images = ["https://img.example/bella-notte.jpg"]
    settle()
    return restaurant


def future_day(restaurant: Restaurant, days_ahead: int = 7) -> date:
    """A local day of the restaurant `days_ahead` from today (real clock: routes use it)."""
    return datetime.now(ZoneInfo(restaurant.timezone)).date() + timedelta(days=days_ahead)


def local_instant(restaurant: Restaurant, day: date, wall: time) -> datetime:
    return datetime.combine(day, wall, tzinfo=ZoneInfo(restaurant.timezone)).astimezone(UTC)


def hold_body(restaurant: Restaurant, user: User, day: date, wall: str = "19:00", party: int = 2) -> dict[str, Any]:
    return {
        "userId": str(user.id),
        "restaurantId": str(restaurant.id),
        "date": day.isoformat(),
        "time": wall,
        "partySize": party,
    }


def confirm_body(hold_id: str, user: User, token: str = "pm_card_visa", **extra: Any) -> dict[str, Any]:
    """The seed's confirm body plus the gateway token the card form produced."""
    return {
        "holdId": hold_id,
        "userId": str(user.id),
        "paymentMethod": {"type": "credit-card", "last4": "0000", "cardBrand": "Fake", "token": token},
        **extra,
    }


def book_via_api(
    client: FlaskClient,
    headers: Callable[[User], dict[str, str]],
    restaurant: Restaurant,
    user: User,
    day: date,
    wall: str = "19:00",
    party: int = 2,
) -> dict[str, Any]:
    """Hold and confirm through the routes; return the confirm answer's reservation."""
    held = client.post(
        "/api/reservations/hold", json=hold_body(restaurant, user, day, wall, party), headers=headers(user)
    )
    assert held.status_code == 201, held.get_json()
    hold_id = held.get_json()["hold"]["holdId"]
    confirmed = client.post("/api/reservations/confirm", json=confirm_body(hold_id, user), headers=headers(user))
    assert confirmed.status_code == 201, confirmed.get_json()
    return confirmed.get_json()["reservation"]


def new_id() -> str:
    return str(uuid.uuid4())


def expire_session() -> None:
    db.session.expire_all()


def expire_hold(hold_id: str | uuid.UUID, *, ago: timedelta = timedelta(seconds=1)) -> None:
    """Move a hold's life into the past so that it expired `ago` (real clock), and commit."""
    from sqlalchemy import update

    from api.booking.models import Hold

    expired_at = datetime.now(UTC) - ago
    db.session.execute(
        update(Hold)
        .where(Hold.id == uuid.UUID(str(hold_id)))
        .values(created_at=expired_at - timedelta(minutes=10), expires_at=expired_at)
    )
    # The claims carry the hold's expiry too.
    from api.booking.models import TableOccupancy

    db.session.execute(
        update(TableOccupancy).where(TableOccupancy.hold_id == uuid.UUID(str(hold_id))).values(expires_at=expired_at)
    )
    db.session.commit()


def gateway_intent(idempotency_key: str) -> dict[str, Any] | None:
    """The fake gateway's intent made with this key (its own table, written on its own connection)."""
    from sqlalchemy import select

    from api.payments.gateway import get_gateway
    from api.payments.models import FakeGatewayIntent

    gateway = get_gateway()
    with gateway._engine.connect() as conn:  # type: ignore[attr-defined]
        row = (
            conn.execute(
                select(FakeGatewayIntent.__table__).where(FakeGatewayIntent.idempotency_key == idempotency_key)
            )
            .mappings()
            .first()
        )
    return dict(row) if row is not None else None


def money_state(hold_id: str | uuid.UUID) -> dict[str, Any]:
    """What happened to a hold's deposit: reservation, our payment rows, the gateway's side."""
    from sqlalchemy import select

    from api.booking.models import Reservation
    from api.payments.models import Payment

    hold_uuid = uuid.UUID(str(hold_id))
    db.session.expire_all()
    reservation = db.session.scalar(select(Reservation).where(Reservation.hold_id == hold_uuid))
    payments = db.session.scalars(
        select(Payment).where(Payment.subject_id == hold_uuid).order_by(Payment.attempt)
    ).all()
    intents = [gateway_intent(p.idempotency_key) for p in payments]
    return {
        "reservation": reservation,
        "payments": [p.status for p in payments],
        "intents": [i["status"] if i else None for i in intents],
        "charges": sum(1 for i in intents if i and i["authorized_at"] is not None),
        "captured_cents": sum(i["amount_captured_cents"] for i in intents if i),
        "refunded_cents": sum(i["amount_refunded_cents"] for i in intents if i),
    }


def seed_live_database(
    make_app: Callable[..., Any],
    database_url: str,
    *,
    users: int,
    tables: list[tuple[int, int]] | None = None,
    restaurants: int = 1,
) -> dict[str, Any]:
    """Commit restaurants and `users` customers (with access tokens) into a committing database."""
    from argon2 import PasswordHasher

    from tests.conftest import session_token

    live = make_app(database_url=database_url)
    password_hash = PasswordHasher().hash("correct horse battery staple")
    with live.app_context():
        made = [app_restaurant(tables=tables) for _ in range(restaurants)]
        accounts = [
            User(email=f"racer-{uuid.uuid4().hex[:10]}@example.com", password_hash=password_hash) for _ in range(users)
        ]
        db.session.add_all(accounts)
        db.session.commit()
        seeded = {
            "app": live,
            "restaurant_id": str(made[0].id),
            "restaurant_ids": [str(r.id) for r in made],
            "day": future_day(made[0], 7),
            "users": [(str(u.id), {"Authorization": f"Bearer {session_token(u)}"}) for u in accounts],
        }
        db.session.remove()
    return seeded


def live_env(**extra: str) -> dict[str, str]:
    """Environment for gunicorn: test mode and the test suite's token secret."""
    from tests.conftest import TEST_SETTINGS

    return {"ENV": "test", "JWT_SECRET_KEY": TEST_SETTINGS["jwt_secret_key"], **extra}


def book_live(
    base_url: str, restaurant_id: str, user: tuple[str, dict[str, str]], day: date, wall: str, party: int = 2
) -> str:
    """Hold and pay through a running server (gunicorn) as the app does; return the reservation id."""
    import requests

    user_id, headers = user
    hold = {"userId": user_id, "restaurantId": restaurant_id, "date": day.isoformat(), "time": wall, "partySize": party}
    held = requests.post(f"{base_url}/api/reservations/hold", json=hold, headers=headers, timeout=60)
    assert held.status_code == 201, held.text
    confirm = {
        "holdId": held.json()["hold"]["holdId"],
        "userId": user_id,
        "paymentMethod": {"type": "credit-card", "token": "pm_card_visa"},
    }
    confirmed = requests.post(f"{base_url}/api/reservations/confirm", json=confirm, headers=headers, timeout=60)
    assert confirmed.status_code == 201, confirmed.text
    return confirmed.json()["reservation"]["reservationId"]
