"""The app frontend's user stats: counts over likes, reservations and the account (reads only)."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from api.accounts import service as accounts_service
from api.accounts.authz import ensure_self_or_admin
from api.accounts.models import RefreshToken, User
from api.booking.models import Reservation, ReservationStatus
from api.discovery.models import Swipe, SwipeAction
from api.extensions import db
from api.restaurants.models import Restaurant

TOP_CUISINES = 3


@dataclass(frozen=True)
class UserStats:
    total_likes: int
    total_reservations: int
    account_age: int
    top_cuisines: list[str]
    last_active: datetime


def user_stats(*, actor: User, user_id: uuid.UUID | str | None, now: datetime) -> UserStats:
    """`GET /api/stats/<userId>`: likes, reservations (cancelled ones not counted), the account's age
    in whole days, the three cuisines the user liked or booked most (lower-case, as the app spells
    them; ties alphabetical), and the latest sign-in, like, booking or profile change.

    :raise 403: USER_MISMATCH. :raise 404: USER_NOT_FOUND.
    """
    user = accounts_service.get_user(user_id=ensure_self_or_admin(user_id, actor))
    liked = select(Swipe.restaurant_id, Swipe.updated_at).where(
        Swipe.user_id == user.id, Swipe.action == SwipeAction.LIKE
    )
    booked = select(Reservation.restaurant_id, Reservation.created_at).where(
        Reservation.user_id == user.id, Reservation.status != ReservationStatus.CANCELLED
    )
    likes = db.session.execute(liked).all()
    bookings = db.session.execute(booked).all()
    restaurant_ids = {row[0] for row in likes} | {row[0] for row in bookings}
    cuisines_of = dict(
        db.session.execute(select(Restaurant.id, Restaurant.cuisines).where(Restaurant.id.in_(restaurant_ids))).all()
    )
    counts: Counter[str] = Counter()
    for restaurant_id, _ in [*likes, *bookings]:
        counts.update({c.lower() for c in cuisines_of.get(restaurant_id) or []})
    top = sorted(counts, key=lambda c: (-counts[c], c))[:TOP_CUISINES]
    last_sign_in = db.session.scalar(select(func.max(RefreshToken.issued_at)).where(RefreshToken.user_id == user.id))
    moments = [
        user.created_at,
        user.updated_at,
        last_sign_in,
        *(row[1] for row in likes),
        *(row[1] for row in bookings),
    ]
    return UserStats(
        total_likes=len(likes),
        total_reservations=len(bookings),
        account_age=max(0, (now - user.created_at).days),
        top_cuisines=top,
        last_active=max(m for m in moments if m is not None),
    )
