"""Trades: two guests swap their bookings' times and tables, or nothing changes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from api.booking.models import Reservation, ReservationEvent, ReservationStatus, TableOccupancy
from api.extensions import db
from api.outbox.models import OutboxMessage
from api.trades import service
from api.trades.models import Trade, TradeStatus
from tests.booking.app_flow import app_restaurant, book_via_api, expire_session, future_day
from tests.support.invariants import assert_nothing_sold_twice


@pytest.fixture
def restaurant(app):
    # Tables 1 (2 seats) and 2 (2-4 seats); the seed's deposit and refund policy.
    return app_restaurant(tables=[(1, 2), (2, 4)])


@pytest.fixture
def booked(client, auth_headers, restaurant, customer, other_customer):
    """The customer at 19:00, the other guest at 21:00 on the same day, both parties of 2."""
    day = future_day(restaurant)
    mine = book_via_api(client, auth_headers, restaurant, customer, day, "19:00")
    theirs = book_via_api(client, auth_headers, restaurant, other_customer, day, "21:00")
    return mine, theirs


def propose(client, auth_headers, user, mine, theirs, **extra):
    body = {"requesterReservationId": mine["reservationId"], "targetReservationId": theirs["reservationId"], **extra}
    return client.post("/api/trades", json=body, headers=auth_headers(user))


def answer(client, auth_headers, user, trade_id, action, **extra):
    return client.post(f"/api/trades/{trade_id}", json={"action": action, **extra}, headers=auth_headers(user))


def rows(*ids):
    expire_session()
    return [db.session.get(Reservation, i) for i in ids]


def test_accepting_swaps_times_and_tables_and_keeps_each_deposit_with_its_payer(
    client, auth_headers, booked, customer, other_customer
):
    mine, theirs = booked
    before_mine, before_theirs = rows(mine["reservationId"], theirs["reservationId"])
    snapshot = {
        r.id: (r.starts_at, r.ends_at, r.table_id, r.deposit_cents, r.hold_id, r.refund_policy, r.user_id)
        for r in (before_mine, before_theirs)
    }

    proposed = propose(client, auth_headers, customer, mine, theirs, message="Earlier suits us better")
    assert proposed.status_code == 201, proposed.get_json()
    trade = proposed.get_json()
    assert trade["status"] == "pending" and trade["message"] == "Earlier suits us better"
    assert trade["requester"]["time"] == "19:00" and trade["target"]["time"] == "21:00"

    accepted = answer(client, auth_headers, other_customer, trade["id"], "accept")
    assert accepted.status_code == 200, accepted.get_json()
    assert accepted.get_json()["status"] == "accepted"
    assert accepted.get_json()["requester"]["time"] == "21:00"

    after_mine, after_theirs = rows(mine["reservationId"], theirs["reservationId"])
    old_mine, old_theirs = snapshot[after_mine.id], snapshot[after_theirs.id]
    assert (after_mine.starts_at, after_mine.table_id) == (old_theirs[0], old_theirs[2])
    assert (after_theirs.starts_at, after_theirs.table_id) == (old_mine[0], old_mine[2])
    # Both are reminded of their new times and show when they changed.
    assert after_mine.reminder_sent_at is None and after_mine.modified_at is not None
    # Deposits, payments, frozen policies and owners stay on their rows.
    assert (after_mine.deposit_cents, after_mine.hold_id, after_mine.refund_policy, after_mine.user_id) == old_mine[3:]
    assert (after_theirs.deposit_cents, after_theirs.hold_id, after_theirs.refund_policy) == old_theirs[3:6]
    claims = {
        c.reservation_id: (c.table_id, c.starts_at, c.ends_at) for c in db.session.scalars(select(TableOccupancy))
    }
    assert claims[after_mine.id] == (after_mine.table_id, after_mine.starts_at, after_mine.ends_at)
    assert claims[after_theirs.id] == (after_theirs.table_id, after_theirs.starts_at, after_theirs.ends_at)
    assert_nothing_sold_twice(db.session.connection())
    # Both histories record the swap; both guests are told.
    for reservation in (after_mine, after_theirs):
        [event] = db.session.scalars(
            select(ReservationEvent).where(
                ReservationEvent.reservation_id == reservation.id, ReservationEvent.action == "trade"
            )
        )
        assert event.details["tradeId"] == trade["id"] and event.actor_id == other_customer.id
    events = [
        m.payload["event"] for m in db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "trade.event"))
    ]
    assert sorted(events) == ["accepted", "proposed"]


def test_lists_show_sent_and_received_and_a_stranger_sees_nothing(
    client, auth_headers, booked, customer, other_customer, make_user
):
    mine, theirs = booked
    trade_id = propose(client, auth_headers, customer, mine, theirs).get_json()["id"]
    sent = client.get("/api/trades", headers=auth_headers(customer)).get_json()
    received = client.get("/api/trades", headers=auth_headers(other_customer)).get_json()
    assert [t["id"] for t in sent["sent"]] == [trade_id] and sent["received"] == []
    assert [t["id"] for t in received["received"]] == [trade_id] and received["sent"] == []
    stranger = make_user(email="stranger@example.com")
    assert client.get(f"/api/trades/{trade_id}", headers=auth_headers(stranger)).status_code == 404
    assert answer(client, auth_headers, stranger, trade_id, "accept").status_code == 404


def test_only_the_target_answers_and_only_the_requester_withdraws(
    client, auth_headers, booked, customer, other_customer
):
    mine, theirs = booked
    before = [(r.starts_at, r.table_id) for r in rows(mine["reservationId"], theirs["reservationId"])]
    trade_id = propose(client, auth_headers, customer, mine, theirs).get_json()["id"]
    assert answer(client, auth_headers, customer, trade_id, "accept").status_code == 403
    assert answer(client, auth_headers, other_customer, trade_id, "withdraw").status_code == 403
    rejected = answer(client, auth_headers, other_customer, trade_id, "reject", responseMessage="We like 21:00")
    assert rejected.status_code == 200 and rejected.get_json()["responseMessage"] == "We like 21:00"
    again = answer(client, auth_headers, other_customer, trade_id, "accept")
    assert (again.status_code, again.get_json()["code"]) == (409, "TRADE_CLOSED")
    assert [(r.starts_at, r.table_id) for r in rows(mine["reservationId"], theirs["reservationId"])] == before
    withdrawn_id = propose(client, auth_headers, customer, mine, theirs).get_json()["id"]
    assert answer(client, auth_headers, customer, withdrawn_id, "withdraw").get_json()["status"] == "withdrawn"


def test_a_booking_changed_since_the_proposal_is_not_swapped(client, auth_headers, booked, customer, other_customer):
    mine, theirs = booked
    trade_id = propose(client, auth_headers, customer, mine, theirs).get_json()["id"]
    cancelled = client.delete(
        f"/api/reservations/{mine['reservationId']}",
        json={"userId": str(customer.id)},
        headers=auth_headers(customer),
    )
    assert cancelled.status_code == 200, cancelled.get_json()
    _, before_theirs = rows(mine["reservationId"], theirs["reservationId"])
    starts_at, table_id = before_theirs.starts_at, before_theirs.table_id

    refused = answer(client, auth_headers, other_customer, trade_id, "accept")
    assert (refused.status_code, refused.get_json()["code"]) == (409, "TRADE_STALE")
    _, after_theirs = rows(mine["reservationId"], theirs["reservationId"])
    assert (after_theirs.starts_at, after_theirs.table_id, after_theirs.status) == (
        starts_at,
        table_id,
        ReservationStatus.CONFIRMED,
    )


def test_a_party_that_does_not_fit_the_other_table_is_refused(
    client, auth_headers, restaurant, customer, other_customer
):
    day = future_day(restaurant)
    pair = book_via_api(client, auth_headers, restaurant, customer, day, "19:00", party=2)
    four = book_via_api(client, auth_headers, restaurant, other_customer, day, "21:00", party=4)
    trade_id = propose(client, auth_headers, customer, pair, four).get_json()["id"]
    refused = answer(client, auth_headers, other_customer, trade_id, "accept")
    assert (refused.status_code, refused.get_json()["code"]) == (409, "TRADE_NOT_POSSIBLE")


def test_a_longer_stay_that_would_run_into_the_next_booking_changes_nothing(
    client, auth_headers, restaurant, customer, other_customer, make_user
):
    day = future_day(restaurant)
    # Parties of 3 and 4 both need table 2; a third guest holds table 2 right after the 19:00 seating
    # would end for a short stay, so the longer stay cannot move there.
    restaurant.durations_by_party = [{"maxParty": 3, "minutes": 60}, {"maxParty": 20, "minutes": 150}]
    db.session.commit()
    short = book_via_api(client, auth_headers, restaurant, customer, day, "19:00", party=3)
    third = make_user(email="third@example.com")
    book_via_api(client, auth_headers, restaurant, third, day, "20:00", party=3)
    long = book_via_api(client, auth_headers, restaurant, other_customer, day, "21:00", party=4)
    trade_id = propose(client, auth_headers, customer, short, long).get_json()["id"]
    refused = answer(client, auth_headers, other_customer, trade_id, "accept")
    assert (refused.status_code, refused.get_json()["code"]) == (409, "TRADE_CONFLICT"), refused.get_json()
    after_short, after_long = rows(short["reservationId"], long["reservationId"])
    assert after_short.starts_at < after_long.starts_at  # nothing moved
    assert_nothing_sold_twice(db.session.connection())
    expire_session()
    assert db.session.get(Trade, trade_id).status == TradeStatus.PENDING


@pytest.mark.parametrize(
    "mutate, reason",
    [
        (lambda mine, theirs: (mine, mine), "itself"),
        (lambda mine, theirs: (mine, {"reservationId": "00000000-0000-0000-0000-000000000000"}), None),
    ],
)
def test_impossible_proposals(client, auth_headers, booked, customer, mutate, reason):
    first, second = mutate(*booked)
    response = propose(client, auth_headers, customer, first, second)
    if reason is None:
        assert (response.status_code, response.get_json()["code"]) == (404, "RESERVATION_NOT_FOUND")
    else:
        assert (response.status_code, response.get_json()["code"]) == (409, "TRADE_NOT_POSSIBLE")
        assert reason in response.get_json()["message"]


def test_offering_someone_elses_booking_is_not_found(client, auth_headers, booked, other_customer):
    mine, theirs = booked
    response = propose(client, auth_headers, other_customer, mine, theirs)
    assert (response.status_code, response.get_json()["code"]) == (404, "RESERVATION_NOT_FOUND")


def test_the_same_proposal_twice_is_one_trade(client, auth_headers, booked, customer):
    mine, theirs = booked
    assert propose(client, auth_headers, customer, mine, theirs).status_code == 201
    again = propose(client, auth_headers, customer, mine, theirs)
    assert (again.status_code, again.get_json()["code"]) == (409, "TRADE_EXISTS")


def test_pending_trades_expire_at_the_earlier_start(client, auth_headers, booked, customer, other_customer):
    mine, theirs = booked
    trade_id = propose(client, auth_headers, customer, mine, theirs).get_json()["id"]
    trade = db.session.get(Trade, trade_id)
    assert trade.expires_at == min(trade.requester_starts_at, trade.target_starts_at)
    assert service.expire_trades(trade.expires_at - timedelta(seconds=1)) == 0
    assert service.expire_trades(trade.expires_at) == 1
    expire_session()
    assert db.session.get(Trade, trade_id).status == TradeStatus.EXPIRED
