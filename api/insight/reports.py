"""Booking reports: a restaurant's reservations over a range of service days, with the staff day
listing's filters, as JSON pages or as a CSV export streamed from a server-side cursor.

- The rows are the day listing's (`booking.service._details_query`: the reservation, its table
  and its guest), so a report and the day listing always agree on what a booking looks like.
- The range is of local service days, `startDate` to `endDate` inclusive, at most
  `MAX_REPORT_DAYS`; the filters are the day listing's (`DayListFilters`): guest email substring,
  table number, slot, status. A slot given as a wall time (`19:00`) matches that local time on
  every day of the range; an instant matches the one slot it rounds down to.
- CSV: UTF-8, a header row, then one line per reservation in time order. The query runs on a
  server-side cursor (`yield_per`: psycopg2 fetches `CSV_BATCH_ROWS` rows at a time), each
  batch is written out and handed to the WSGI server before the next is fetched, so memory stays
  flat whatever the size of the report (docs/reports.md has the figure for 100,000 rows).
- Cells a spreadsheet would read as a formula (starting with `=`, `+`, `-`, `@`, a tab or a
  carriage return) get a leading `'` (OWASP's CSV-injection advice), so a guest named
  `=HYPERLINK(...)` stays text. A phone number `+1 555...` is therefore written `'+1 555...`.
  Only text that comes from people is checked (code, name, email, phone, requests): the other
  cells are dates, numbers, ids and our own enum values, none of which can start that way.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Time, cast, func, select

from api.accounts.models import User
from api.booking import service as booking_service
from api.booking.models import Reservation
from api.booking.service import DayListFilters, ReservationDetails, ReservationPage
from api.errors import ErrorCode, Unprocessable
from api.extensions import db
from api.restaurants.models import DiningTable, Restaurant
from api.schemas import pagination

MAX_REPORT_DAYS = 366
# Rows per FETCH from the server-side cursor, and per chunk handed to the WSGI server.
CSV_BATCH_ROWS = 500
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

CSV_HEADER = (
    "confirmationCode",
    "status",
    "source",
    "serviceDate",
    "startsAt",
    "endsAt",
    "table",
    "partySize",
    "name",
    "email",
    "phone",
    "specialRequests",
    "createdAt",
    "id",
)


def csv_cells(row: Any, tz: ZoneInfo) -> list[Any]:
    """One reservation as CSV cells, in `CSV_HEADER` order: local times with their offset, `createdAt` in UTC."""
    return [
        neutralise(row.confirmation_code),
        row.status,
        row.source,
        row.service_date.isoformat(),
        row.starts_at.astimezone(tz).isoformat(),
        row.ends_at.astimezone(tz).isoformat(),
        row.table_number,
        row.party_size,
        neutralise(row.name),
        neutralise(row.email),
        neutralise(row.phone),
        neutralise(row.special_requests),
        row.created_at.astimezone(dt.UTC).isoformat(),
        str(row.id),
    ]


@dataclass(frozen=True)
class CsvExport:
    """A report as CSV: its file name and its text, produced chunk by chunk as it is iterated."""

    filename: str
    chunks: Iterator[str]


def booking_report(
    *,
    actor: User,
    restaurant_id: uuid.UUID,
    start_date: date,
    end_date: date,
    format: str = "json",
    page: int = 1,
    page_size: int = 20,
    **filters: Any,
) -> ReservationPage | CsvExport:
    """The reservations of a restaurant's service days `start_date`..`end_date`, filtered like the day listing.

    Everything is checked before anything is streamed, so a refusal is a JSON error, never a
    truncated CSV.

    :raise 403 FORBIDDEN: staff of another restaurant :raise 404 RESTAURANT_NOT_FOUND:
    :raise 422 BAD_DATE_RANGE: end before start, or more than MAX_REPORT_DAYS days
    :raise 422 BAD_TIME: a slot instant out of range
    """
    restaurant = booking_service.restaurant_for_staff(actor=actor, restaurant_id=restaurant_id)
    check_range(start_date, end_date)
    stmt = report_query(
        restaurant=restaurant, start_date=start_date, end_date=end_date, filters=DayListFilters(**filters)
    )
    if format == "csv":
        filename = f"bookings-{restaurant.slug}-{start_date.isoformat()}-{end_date.isoformat()}.csv"
        return CsvExport(filename=filename, chunks=_csv_chunks(stmt, ZoneInfo(restaurant.timezone)))
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = db.session.execute(stmt.offset((page - 1) * page_size).limit(page_size))
    return ReservationPage(
        items=[ReservationDetails(**row._asdict()) for row in rows],
        pagination=pagination(page=page, page_size=page_size, total=total),
    )


def check_range(start_date: date, end_date: date) -> None:
    """:raise 422 BAD_DATE_RANGE: `end_date` before `start_date`, or more than MAX_REPORT_DAYS days in all."""
    days = (end_date - start_date).days + 1
    if days < 1 or days > MAX_REPORT_DAYS:
        raise Unprocessable(
            ErrorCode.BAD_DATE_RANGE,
            f"endDate must be on or after startDate, at most {MAX_REPORT_DAYS} days in all.",
            details={"startDate": start_date.isoformat(), "endDate": end_date.isoformat(), "maxDays": MAX_REPORT_DAYS},
        )


def report_query(*, restaurant: Restaurant, start_date: date, end_date: date, filters: DayListFilters) -> Any:
    """The day listing's rows over a range of service days, filtered as the day listing filters, in time order."""
    stmt, guest_email = booking_service._details_query()
    stmt = stmt.where(
        Reservation.restaurant_id == restaurant.id, Reservation.service_date.between(start_date, end_date)
    )
    if filters.email:
        pattern = f"%{booking_service._escape_like(filters.email.strip().lower())}%"
        stmt = stmt.where(guest_email.ilike(pattern, escape="\\"))
    if filters.table is not None:
        stmt = stmt.where(DiningTable.number == filters.table)
    if isinstance(filters.slot, datetime):
        stmt = stmt.where(Reservation.starts_at == booking_service.slot_for(restaurant, filters.slot).starts_at)
    elif filters.slot is not None:
        # A wall time: that local time on every day of the range (DST-proof: read on the local clock).
        stmt = stmt.where(cast(func.timezone(restaurant.timezone, Reservation.starts_at), Time) == filters.slot)
    if filters.status:
        stmt = stmt.where(Reservation.status == filters.status)
    return stmt.order_by(Reservation.starts_at, DiningTable.number, Reservation.created_at, Reservation.id)


def neutralise(value: Any) -> Any:
    """A cell as text a spreadsheet will not evaluate: a leading `'` before a formula trigger."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _csv_chunks(stmt: Any, tz: ZoneInfo) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    yield _drain(buffer)
    # yield_per: a server-side cursor (psycopg2's named cursor) read CSV_BATCH_ROWS rows at a time.
    result = db.session.execute(stmt.execution_options(yield_per=CSV_BATCH_ROWS))
    for batch in result.partitions():
        writer.writerows(csv_cells(row, tz) for row in batch)
        yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
