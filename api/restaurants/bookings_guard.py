"""Staff changes to a restaurant's time must not strand the bookings already made.

Opening hours, closures and the time zone decide when a booking may start; a change to them
may leave future bookings outside the new hours, inside a new closure, or (a time zone
change) at other wall times than the guests booked. Bookings live in a higher domain
(booking stands on restaurants), so the booking domain registers the finder at start-up and
this module only asks it, inside the change's transaction, after the change is flushed.
Slot length and turn times need no guard: bookings keep their exact times and tables.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import date, datetime
from typing import Any, Protocol

from api.errors import Conflict, ErrorCode
from api.restaurants.models import Restaurant


class AffectedBookingsFinder(Protocol):
    def __call__(
        self, *, restaurant: Restaurant, now: datetime, dates: Collection[date] | None, every_future: bool
    ) -> list[dict[str, Any]]: ...


_finders: list[AffectedBookingsFinder] = []


def register_finder(finder: AffectedBookingsFinder | Callable[..., list[dict[str, Any]]]) -> None:
    """Called once at start-up by the booking domain."""
    if finder not in _finders:
        _finders.append(finder)  # type: ignore[arg-type]


def _affected(
    restaurant: Restaurant, now: datetime, dates: Collection[date] | None, every_future: bool
) -> list[dict[str, Any]]:
    return [
        booking
        for finder in _finders
        for booking in finder(restaurant=restaurant, now=now, dates=dates, every_future=every_future)
    ]


def guard_hours_change(
    *, restaurant: Restaurant, now: datetime, force: bool, dates: Collection[date] | None = None
) -> list[dict[str, Any]]:
    """The future bookings the restaurant's new hours or closures no longer open (on `dates`, or any day).

    :raise 409 BOOKINGS_AFFECTED: some are, and `force` is not set; with `force` they are returned.
    """
    affected = _affected(restaurant, now, dates, every_future=False)
    if affected and not force:
        raise Conflict(
            ErrorCode.BOOKINGS_AFFECTED,
            f"{len(affected)} booking(s) would fall outside the new hours; move or cancel them, or send force=true.",
            details={"bookings": affected},
        )
    return affected


def guard_time_zone_change(*, restaurant: Restaurant, now: datetime) -> None:
    """:raise 409 BOOKINGS_AFFECTED: future bookings exist; their instants would mean other wall times."""
    affected = _affected(restaurant, now, None, every_future=True)
    if affected:
        raise Conflict(
            ErrorCode.BOOKINGS_AFFECTED,
            "The time zone cannot change while future bookings exist.",
            details={"bookings": affected},
        )
