"""The waitlist: positions, offers when a table frees up, and the cascade when an offer lapses (frozen clock)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select

from api.booking import checkout, waitlist
from api.booking.models import Hold, WaitlistEntry, WaitlistStatus
from api.extensions import db
from api.outbox.models import OutboxMessage
from tests.booking.app_flow import app_restaurant, book_via_api, expire_session, future_day, local_instant


@pytest.fixture
def restaurant(app):
    return app_restaurant(tables=[(1, 2)])  # one table for two: every freed stay is that table


@pytest.fixture
def day(restaurant):
    return future_day(restaurant)


def join(user, restaurant, day, start="19:00", end="19:00", party=2, now=None):
    return waitlist.join(
        actor=user,
        restaurant_id=restaurant.id,
        service_date=day,
        window_start=time.fromisoformat(start),
        window_end=time.fromisoformat(end),
        party_size=party,
        now=now or datetime.now(UTC),
    )


def entry(view):
    expire_session()
    return db.session.get(WaitlistEntry, view.id)


def test_join_shows_the_position_and_one_entry_per_day(client, auth_headers, restaurant, day, customer, make_user):
    first = client.post(
        f"/api/restaurants/{restaurant.id}/waitlist",
        json={"date": day.isoformat(), "startTime": "19:00", "endTime": "20:30", "partySize": 2},
        headers=auth_headers(customer),
    )
    assert first.status_code == 201, first.get_json()
    assert (first.get_json()["status"], first.get_json()["position"]) == ("waiting", 1)
    second = join(make_user(email="second@example.com"), restaurant, day, "19:00", "20:30")
    assert second.position == 2
    again = client.post(
        f"/api/restaurants/{restaurant.id}/waitlist",
        json={"date": day.isoformat(), "startTime": "18:00", "endTime": "18:30", "partySize": 2},
        headers=auth_headers(customer),
    )
    assert (again.status_code, again.get_json()["code"]) == (409, "WAITLIST_EXISTS")
    mine = client.get("/api/waitlist", headers=auth_headers(customer)).get_json()
    assert [(e["date"], e["startTime"], e["endTime"], e["position"]) for e in mine] == [
        (day.isoformat(), "19:00", "20:30", 1)
    ]


@pytest.mark.parametrize(
    "body, code",
    [
        ({"startTime": "21:00", "endTime": "19:00", "partySize": 2}, "BAD_TIME"),
        ({"startTime": "19:00", "endTime": "20:00", "partySize": 40}, "BAD_GUESTS"),
    ],
)
def test_impossible_entries_are_refused(client, auth_headers, restaurant, day, customer, body, code):
    response = client.post(
        f"/api/restaurants/{restaurant.id}/waitlist",
        json={"date": day.isoformat(), **body},
        headers=auth_headers(customer),
    )
    assert (response.status_code, response.get_json()["code"]) == (422, code)


def test_a_past_day_is_refused(restaurant, customer):
    yesterday = future_day(restaurant, -1)
    with pytest.raises(Exception) as err:
        join(customer, restaurant, yesterday)
    assert err.value.code == "BAD_TIME"


def test_a_cancellation_offers_the_table_to_the_first_entry_then_lapses_to_the_next(
    app, client, auth_headers, restaurant, day, customer, make_user
):
    booked = book_via_api(client, auth_headers, restaurant, customer, day, "19:00")
    ada, bo = make_user(email="ada@example.com"), make_user(email="bo@example.com")
    first, second = join(ada, restaurant, day), join(bo, restaurant, day)
    now = datetime.now(UTC)
    assert waitlist.match_day(restaurant_id=restaurant.id, service_date=day, now=now) == 0  # nothing free yet

    def freed_messages():
        return [m.payload for m in db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "table.freed"))]

    before = freed_messages()  # joining asks for a look too: a table may be free already
    cancelled = client.delete(
        f"/api/reservations/{booked['reservationId']}",
        json={"userId": str(customer.id)},
        headers=auth_headers(customer),
    )
    assert cancelled.status_code == 200
    assert freed_messages()[len(before) :] == [{"restaurant_id": str(restaurant.id), "service_date": day.isoformat()}]

    assert waitlist.match_day(restaurant_id=restaurant.id, service_date=day, now=now) == 1
    assert waitlist.match_day(restaurant_id=restaurant.id, service_date=day, now=now) == 0  # one table, one offer
    offered = entry(first)
    assert offered.status == WaitlistStatus.OFFERED and entry(second).status == WaitlistStatus.WAITING
    hold = db.session.get(Hold, offered.offer_hold_id)
    assert (hold.user_id, hold.starts_at) == (ada.id, local_instant(restaurant, day, time(19, 0)))
    table_id = hold.table_id
    assert offered.offer_expires_at == now + timedelta(minutes=15)
    [view] = waitlist.my_entries(actor=bo, now=now)
    assert (view.status, view.position) == ("waiting", 1)
    assert db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "waitlist.offered")).one().payload == {
        "entry_id": str(first.id)
    }

    # Not claimed in time: the offer lapses and the same table goes to the next guest.
    later = offered.offer_expires_at + timedelta(seconds=1)
    assert waitlist.sweep(later) == 1
    assert entry(first).status == WaitlistStatus.LAPSED
    claimed = entry(second)
    assert claimed.status == WaitlistStatus.OFFERED
    assert db.session.get(Hold, claimed.offer_hold_id).table_id == table_id

    # Claiming is confirming the offered hold (with the deposit); the sweep records it.
    confirmation = checkout.confirm_reservation(
        actor=bo,
        hold_id=claimed.offer_hold_id,
        user_id=None,
        payment_method="pm_card_visa",
        special_requests="",
        now=later,
    )
    assert confirmation.reservation.hold_id == claimed.offer_hold_id
    assert waitlist.sweep(later + timedelta(seconds=1)) == 0
    assert entry(second).status == WaitlistStatus.BOOKED


def test_leaving_with_an_offer_passes_the_table_on(client, auth_headers, restaurant, day, customer, make_user):
    ada, bo = make_user(email="ada@example.com"), make_user(email="bo@example.com")
    first, second = join(ada, restaurant, day), join(bo, restaurant, day)
    now = datetime.now(UTC)
    assert waitlist.match_day(restaurant_id=restaurant.id, service_date=day, now=now) == 1  # the table was free
    gone = client.delete(f"/api/waitlist/{first.id}", headers=auth_headers(ada))
    assert gone.status_code == 204
    assert entry(first).status == WaitlistStatus.LEFT
    assert db.session.scalar(select(Hold).where(Hold.user_id == ada.id)) is None
    assert waitlist.match_day(restaurant_id=restaurant.id, service_date=day, now=now) == 1
    assert entry(second).status == WaitlistStatus.OFFERED
    assert client.delete(f"/api/waitlist/{second.id}", headers=auth_headers(ada)).status_code == 404
    assert client.delete(f"/api/waitlist/{uuid.uuid4()}", headers=auth_headers(ada)).status_code == 404


def test_a_guest_paying_for_another_table_is_passed_over(client, auth_headers, restaurant, day, make_user):
    ada, bo = make_user(email="ada@example.com"), make_user(email="bo@example.com")
    first, second = join(ada, restaurant, day, "19:00", "19:00"), join(bo, restaurant, day, "19:00", "19:00")
    other = app_restaurant(tables=[(1, 2)])
    held = client.post(
        "/api/reservations/hold",
        json={
            "userId": str(ada.id),
            "restaurantId": str(other.id),
            "date": day.isoformat(),
            "time": "20:00",
            "partySize": 2,
        },
        headers=auth_headers(ada),
    )
    assert held.status_code == 201
    assert waitlist.match_day(restaurant_id=restaurant.id, service_date=day, now=datetime.now(UTC)) == 1
    assert (entry(first).status, entry(second).status) == (WaitlistStatus.WAITING, WaitlistStatus.OFFERED)


def test_the_offer_email_says_what_is_held_and_until_when(app, restaurant, day, make_user):
    ada = make_user(email="ada@example.com")
    first = join(ada, restaurant, day)
    now = datetime.now(UTC)
    waitlist.match_day(restaurant_id=restaurant.id, service_date=day, now=now)
    waitlist.send_offer_email({"entry_id": str(first.id)})
    [email] = [m.payload for m in db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "email.send"))]
    hold_id = entry(first).offer_hold_id
    assert email["to"] == "ada@example.com" and "19:00" in email["text"] and "$50.00" in email["text"]
    assert f"holdId={hold_id}" in email["text"]
