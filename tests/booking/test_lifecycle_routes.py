"""The staff's actions and the history route: who may, when, and what an overstay does to the next booking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from api.accounts.models import Role
from api.booking.lifecycle import MOVED_BY_OVERSTAY
from api.booking.models import Reservation, ReservationStatus, TableOccupancy
from api.extensions import db
from tests.booking.helpers import build_restaurant
from tests.booking.test_lifecycle import claims_of, events_of, place, state
from tests.conftest import bearer

S = ReservationStatus
MIN = timedelta(minutes=1)


@pytest.fixture
def bistro(app):
    return build_restaurant(tables=[(2, 2), (1, 4)])


@pytest.fixture
def staff(make_user, bistro):
    return make_user(Role.STAFF, restaurant_id=bistro.id)


def table(restaurant, number: int):
    return next(t for t in restaurant.tables if t.number == number)


def post(client, user, reservation, action: str, body=None):
    return client.post(f"/api/reservations/{reservation.id}/{action}", json=body, headers=bearer(user))


# --- who may ---------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["seat", "complete", "no-show", "cancel", "extend"])
def test_customers_are_refused_and_other_restaurants_staff_see_nothing(client, bistro, make_user, action):
    reservation = place(bistro, status=S.CONFIRMED)
    before = state(reservation.id)
    body = {"reason": "x"} if action == "cancel" else {"minutes": 30} if action == "extend" else None
    customer = make_user(Role.CUSTOMER)
    elsewhere = make_user(Role.STAFF, restaurant_id=build_restaurant(tables=[(1, 2)]).id)

    assert post(client, customer, reservation, action, body).get_json()["code"] == "FORBIDDEN"
    answer = post(client, elsewhere, reservation, action, body)
    assert (answer.status_code, answer.get_json()["code"]) == (404, "RESERVATION_NOT_FOUND")
    assert client.post(f"/api/reservations/{reservation.id}/{action}", json=body).status_code == 401
    assert state(reservation.id) == before


def test_history_is_the_guests_and_the_restaurants(client, bistro, staff, make_user, admin):
    guest = make_user(Role.CUSTOMER)
    reservation = place(bistro, status=S.CONFIRMED, user_id=guest.id)
    assert post(client, staff, reservation, "seat", {"reason": "window table"}).status_code == 200

    for reader in (guest, staff, admin):
        answer = client.get(f"/api/reservations/{reservation.id}/history", headers=bearer(reader))
        assert answer.status_code == 200, answer.get_json()
        body = answer.get_json()
        assert body["reservationId"] == str(reservation.id) and body["status"] == "seated"
        [seated] = body["events"]
        assert seated["action"] == "seat" and seated["actorRole"] == "staff"
        assert seated["actorId"] == str(staff.id) and seated["reason"] == "window table"
        assert (seated["fromStatus"], seated["toStatus"]) == ("confirmed", "seated")
        assert set(seated) == {"at", "actorRole", "actorId", "action", "fromStatus", "toStatus", "reason", "details"}

    stranger = make_user(Role.CUSTOMER)
    elsewhere = make_user(Role.STAFF, restaurant_id=build_restaurant(tables=[(1, 2)]).id)
    for reader in (stranger, elsewhere):
        answer = client.get(f"/api/reservations/{reservation.id}/history", headers=bearer(reader))
        assert (answer.status_code, answer.get_json()["code"]) == (404, "RESERVATION_NOT_FOUND")
    assert client.get(f"/api/reservations/{reservation.id}/history").status_code == 401


def test_the_guests_own_cancel_shows_in_the_history_as_the_guest(client, bistro, make_user):
    guest = make_user(Role.CUSTOMER)
    reservation = place(bistro, status=S.CONFIRMED, starts_in=timedelta(days=2), user_id=guest.id)
    assert client.delete(f"/api/reservations/{reservation.id}", json={}, headers=bearer(guest)).status_code == 200
    [event] = events_of(reservation.id)
    assert (event.action, event.actor_role, event.actor_id) == ("cancel", "guest", guest.id)


# --- when --------------------------------------------------------------------------------------


def test_a_party_may_be_seated_up_to_an_hour_early_and_its_claim_starts_then(client, bistro, staff):
    early = place(bistro, status=S.CONFIRMED, starts_in=timedelta(minutes=45))
    answer = post(client, staff, early, "seat")
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["status"] == "seated"
    [claim] = claims_of(early.id)
    assert claim.starts_at < early.starts_at and abs(claim.starts_at - datetime.now(UTC)) < MIN
    [event] = events_of(early.id)
    assert 44 <= event.details["seatedEarlyMinutes"] <= 45


def test_seating_too_early_or_after_the_stay_is_refused(client, bistro, staff):
    too_early = place(bistro, status=S.CONFIRMED, starts_in=timedelta(minutes=75))
    over = place(bistro, status=S.CONFIRMED, starts_in=timedelta(minutes=-100), minutes=90)
    for reservation in (too_early, over):
        before = state(reservation.id)
        answer = post(client, staff, reservation, "seat")
        assert (answer.status_code, answer.get_json()["code"]) == (409, "OUTSIDE_TIME_WINDOW")
        assert state(reservation.id) == before
    assert post(client, staff, too_early, "seat").get_json()["details"]["action"] == "seat"


def test_an_early_party_cannot_sit_where_the_previous_party_still_is(client, bistro, staff):
    two = table(bistro, 1)
    previous = place(bistro, status=S.SEATED, starts_in=timedelta(minutes=-60), minutes=90, table=two)
    early = place(bistro, status=S.CONFIRMED, starts_in=timedelta(minutes=30), table=two)
    before = state(early.id)
    answer = post(client, staff, early, "seat")
    assert (answer.status_code, answer.get_json()["code"]) == (409, "BOOKINGS_AFFECTED")
    assert [b["id"] for b in answer.get_json()["details"]["bookings"]] == [str(previous.id)]
    assert state(early.id) == before


def test_no_show_not_before_the_start(client, bistro, staff):
    later = place(bistro, status=S.CONFIRMED, starts_in=timedelta(minutes=10))
    answer = post(client, staff, later, "no-show")
    assert (answer.status_code, answer.get_json()["code"]) == (409, "OUTSIDE_TIME_WINDOW")
    assert not events_of(later.id)


def test_staff_cancel_needs_a_reason_and_refunds_by_the_frozen_policy(client, bistro, staff):
    reservation = place(bistro, status=S.CONFIRMED, starts_in=timedelta(days=3))
    assert post(client, staff, reservation, "cancel", {}).get_json()["code"] == "VALIDATION_ERROR"
    assert post(client, staff, reservation, "cancel", {"reason": ""}).status_code == 422
    answer = post(client, staff, reservation, "cancel", {"reason": "kitchen closed"})
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["status"] == "cancelled" and body["refundCents"] == 0 and body["reservationId"] == str(reservation.id)
    [event] = events_of(reservation.id)
    assert (event.action, event.actor_role, event.reason) == ("cancel", "staff", "kitchen closed")
    assert claims_of(reservation.id) == []


def test_bad_bodies_are_structured_422s(client, bistro, staff):
    seated = place(bistro, status=S.SEATED)
    for body in ({"minutes": 0}, {"minutes": "ten"}, {"minutes": 241}, {}, {"minutes": 30, "extra": 1}):
        answer = post(client, staff, seated, "extend", body)
        assert (answer.status_code, answer.get_json()["code"]) == (422, "VALIDATION_ERROR"), body
    answer = post(client, staff, seated, "complete", {"reason": "x" * 501})
    assert answer.status_code == 422


# --- overstay ----------------------------------------------------------------------------------


def test_extending_a_seated_party_moves_the_next_booking_to_another_free_table(client, bistro, staff):
    first, second = table(bistro, 1), table(bistro, 2)
    seated = place(bistro, status=S.SEATED, starts_in=timedelta(minutes=-60), minutes=90, table=first)
    next_one = place(bistro, status=S.CONFIRMED, starts_in=timedelta(minutes=30), table=first)
    old_end, next_stay = seated.ends_at, (next_one.starts_at, next_one.ends_at)

    answer = post(client, staff, seated, "extend", {"minutes": 30})
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["reservation"]["reservationId"] == str(seated.id)
    assert body["moved"] == [
        {
            "reservationId": str(next_one.id),
            "confirmationCode": next_one.confirmation_code,
            "fromTableNumber": 1,
            "toTableNumber": 2,
        }
    ]
    db.session.expire_all()
    assert db.session.get(Reservation, seated.id).ends_at == old_end + 30 * MIN
    assert [(c.table_id, c.ends_at) for c in claims_of(seated.id)] == [(first.id, old_end + 30 * MIN)]
    moved = db.session.get(Reservation, next_one.id)
    assert moved.table_id == second.id
    assert [(c.table_id, c.starts_at, c.ends_at) for c in claims_of(next_one.id)] == [(second.id, *next_stay)]
    [change] = events_of(next_one.id)
    assert (change.action, change.reason) == ("change", MOVED_BY_OVERSTAY)
    assert change.details["tableId"] == [str(first.id), str(second.id)]
    assert change.from_status == change.to_status == "confirmed"
    [extended] = events_of(seated.id)[-1:]
    assert extended.action == "extend" and extended.actor_role == "staff"


def test_extending_when_no_table_can_take_the_next_booking_is_409_and_changes_nothing(client, bistro, staff):
    first, second = table(bistro, 1), table(bistro, 2)
    seated = place(bistro, status=S.SEATED, starts_in=timedelta(minutes=-60), minutes=90, table=first)
    next_one = place(bistro, status=S.CONFIRMED, starts_in=timedelta(minutes=30), table=first)
    place(bistro, status=S.CONFIRMED, starts_in=timedelta(minutes=0), table=second)  # the other two-top is taken
    # (the four-top would seat two, but it is taken as well)
    place(bistro, status=S.CONFIRMED, starts_in=timedelta(minutes=15), table=table(bistro, 3))
    before = (state(seated.id), state(next_one.id))

    answer = post(client, staff, seated, "extend", {"minutes": 30})
    assert (answer.status_code, answer.get_json()["code"]) == (409, "BOOKINGS_AFFECTED")
    flagged = answer.get_json()["details"]["bookings"]
    assert [(b["id"], b["confirmationCode"]) for b in flagged] == [(str(next_one.id), next_one.confirmation_code)]
    assert (state(seated.id), state(next_one.id)) == before, "nothing changes"


def test_an_extension_that_overlaps_nothing_just_extends(client, bistro, staff):
    seated = place(bistro, status=S.SEATED)
    old_end = seated.ends_at
    answer = post(client, staff, seated, "extend", {"minutes": 45})
    assert answer.status_code == 200 and answer.get_json()["moved"] == []
    claims = db.session.scalars(select(TableOccupancy).where(TableOccupancy.reservation_id == seated.id)).all()
    assert [c.ends_at for c in claims] == [old_end + 45 * MIN]


def test_only_a_seated_party_can_be_extended(client, bistro, staff):
    confirmed = place(bistro, status=S.CONFIRMED)
    answer = post(client, staff, confirmed, "extend", {"minutes": 30})
    assert (answer.status_code, answer.get_json()["code"]) == (409, "INVALID_TRANSITION")
    assert answer.get_json()["details"]["status"] == "confirmed"


def test_the_routes_and_their_errors_are_in_the_spec(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    history = paths["/api/reservations/{reservation_id}/history"]["get"]
    assert {"200", "401", "404"} <= set(history["responses"])
    for action in ("seat", "complete", "no-show", "cancel", "extend"):
        operation = paths[f"/api/reservations/{{reservation_id}}/{action}"]["post"]
        assert {"200", "401", "403", "404", "409", "422"} <= set(operation["responses"]), action
        assert operation["security"] == [{"bearerAuth": []}]
    assert (
        "BOOKINGS_AFFECTED"
        in paths["/api/reservations/{reservation_id}/extend"]["post"]["responses"]["409"]["description"]
    )
