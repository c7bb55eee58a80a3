"""Guests, reservations, holds and the table-occupancy claims that make double-booking impossible."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime, time, timedelta

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    Time,
    column,
    func,
    literal_column,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID, ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.db import Base, check_constraint_for
from api.restaurants.models import DiningTable, Restaurant


class ReservationStatus(enum.StrEnum):
    """The life of a reservation; the moves between these are `api.booking.lifecycle.TRANSITIONS`."""

    PENDING = "pending"  # awaiting the restaurant's approval (primetime); holds its table
    CONFIRMED = "confirmed"
    SEATED = "seated"
    COMPLETED = "completed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


# Still to come: shown as upcoming, and the only statuses a guest may change or cancel.
ACTIVE_STATUSES = (ReservationStatus.PENDING, ReservationStatus.CONFIRMED)
# Statuses whose reservation holds its table: everything else has released its claims.
OCCUPYING_STATUSES = (*ACTIVE_STATUSES, ReservationStatus.SEATED)


class ReservationSource(enum.StrEnum):
    WEB = "web"
    APP = "app"
    STAFF = "staff"


class Customer(Base):
    """A guest without an account: known by email (the Café Fausse form), or by name and phone (staff bookings)."""

    __tablename__ = "customers"
    __table_args__ = (CheckConstraint("email = lower(email)", name="email_lowercase"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    # Optional for a guest booked by phone or walking in (staff bookings); unique when given
    # (a unique constraint admits any number of NULLs).
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Reservation(Base):
    __tablename__ = "reservations"
    __table_args__ = (
        CheckConstraint(check_constraint_for(ReservationStatus, "status"), name="status_valid"),
        CheckConstraint(check_constraint_for(ReservationSource, "source"), name="source_valid"),
        CheckConstraint("ends_at > starts_at", name="ends_after_starts"),
        CheckConstraint("party_size >= 1", name="party_size_positive"),
        CheckConstraint("deposit_cents >= 0", name="deposit_non_negative"),
        CheckConstraint("customer_id IS NOT NULL OR user_id IS NOT NULL", name="has_guest"),
        Index("ix_reservations_restaurant_id_service_date", "restaurant_id", "service_date", "starts_at"),
        Index("ix_reservations_user_id_starts_at", "user_id", "starts_at"),
        # Dashboards: a restaurant's bookings awaiting approval, soonest first (api/insight/dashboards.py).
        Index(
            "ix_reservations_pending_restaurant_id_starts_at",
            "restaurant_id",
            "starts_at",
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    restaurant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("restaurants.id", ondelete="RESTRICT"))
    table_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dining_tables.id", ondelete="RESTRICT"))
    customer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    # The hold this reservation was confirmed from: unique, so one hold yields one reservation.
    hold_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), unique=True)
    confirmation_code: Mapped[str] = mapped_column(String(12), unique=True)
    party_size: Mapped[int] = mapped_column(SmallInteger)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    service_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default=ReservationStatus.CONFIRMED)
    source: Mapped[str] = mapped_column(String(10), default=ReservationSource.WEB)
    special_requests: Mapped[str] = mapped_column(Text, default="")
    deposit_cents: Mapped[int] = mapped_column(Integer, default=0)
    deposit_paid: Mapped[bool] = mapped_column(default=False)
    payment_brand: Mapped[str | None] = mapped_column(String(30))
    payment_last4: Mapped[str | None] = mapped_column(String(4))
    # The refund policy in force when booked; later policy changes do not touch it.
    refund_policy: Mapped[list[dict[str, int]]] = mapped_column(JSONB, default=list)
    refund_cents: Mapped[int] = mapped_column(Integer, default=0)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When the worker queued the guest's reminder (claimed by UPDATE ... RETURNING: sent once).
    reminder_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When the guest or staff last changed its time, party or requests (api.booking.changes).
    modified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    restaurant: Mapped[Restaurant] = relationship()
    table: Mapped[DiningTable] = relationship()
    customer: Mapped[Customer | None] = relationship()


class ReservationEvent(Base):
    """The audit trail of a reservation: every status transition and every change, who and when.

    `actor_role` is the role the actor acted in (`guest`, `staff`, `admin`, `system` for the
    worker, `link` for a guest through their manage link); `actor_id` is the user, if any.
    """

    __tablename__ = "reservation_events"
    __table_args__ = (
        Index("ix_reservation_events_reservation_id_at", "reservation_id", "at", "id"),
        # Dashboards' recent activity: the newest events first (api/insight/dashboards.py).
        Index("ix_reservation_events_at", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    reservation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("reservations.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    # What changed, for `change` events: {"field": [old, new], ...}.
    details: Mapped[dict[str, object]] = mapped_column(JSONB, default=dict)

    reservation: Mapped[Reservation] = relationship()


class AdjustmentStatus(enum.StrEnum):
    PENDING = "pending"  # recorded with the change; the gateway has not confirmed it yet
    SETTLED = "settled"  # charged (captured) or refunded


class DepositAdjustment(Base):
    """The deposit difference a party-size change owes: charged (`amount_cents` > 0) or refunded (< 0).

    Written in the change's own transaction, so the money owed is never lost; settled after commit
    with gateway keys derived from this row's id (`deposit:{id}:1` for a charge, whose payment has
    `subject_id = id`; `refund:{payment}:change:{id}` for a refund), so a retry, a crash or the
    reconciler moves the money once. `refunds` is the refund's plan, fixed when recorded:
    `[[payment_id, cents], ...]`.
    """

    __tablename__ = "deposit_adjustments"
    __table_args__ = (
        CheckConstraint("amount_cents <> 0", name="amount_nonzero"),
        CheckConstraint(check_constraint_for(AdjustmentStatus, "status"), name="status_valid"),
        Index("ix_deposit_adjustments_reservation_id", "reservation_id"),
        Index("ix_deposit_adjustments_status_created_at", "status", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    reservation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("reservations.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(ForeignKey("reservation_events.id", ondelete="CASCADE"))
    amount_cents: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default=AdjustmentStatus.PENDING)
    refunds: Mapped[list[list[str | int]]] = mapped_column(JSONB, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    settled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Hold(Base):
    """A table claimed for a user for a few minutes while they pay the deposit.

    `user_id` is unique: a user's expired hold is purged before a new one is inserted, so
    the constraint alone enforces one hold per user, also under concurrency.
    """

    __tablename__ = "holds"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_starts"),
        CheckConstraint("expires_at > created_at", name="expires_after_created"),
        CheckConstraint("party_size >= 1", name="party_size_positive"),
        Index("ix_holds_expires_at", "expires_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    restaurant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("restaurants.id", ondelete="CASCADE"))
    table_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dining_tables.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    party_size: Mapped[int] = mapped_column(SmallInteger)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    service_date: Mapped[date] = mapped_column(Date)
    deposit_cents: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    restaurant: Mapped[Restaurant] = relationship()
    table: Mapped[DiningTable] = relationship()


class WaitlistStatus(enum.StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"  # holds a table for the guest until `offer_expires_at`
    BOOKED = "booked"  # the offer was claimed (its hold confirmed into a reservation)
    LAPSED = "lapsed"  # the offer was not claimed in time; it passed to the next entry
    LEFT = "left"
    EXPIRED = "expired"  # the window passed without an offer


class WaitlistEntry(Base):
    """A guest waiting for a table for a party on a local date, between two wall-clock times.

    When a table that fits frees up, the first waiting entry (oldest first) gets an offer: a hold
    on that table for `WAITLIST_OFFER_MINUTES`, whose id is `offer_hold_id` (not a foreign key:
    confirming the hold deletes it, and the reservation then carries the same id as `hold_id`).
    """

    __tablename__ = "waitlist_entries"
    __table_args__ = (
        CheckConstraint(check_constraint_for(WaitlistStatus, "status"), name="status_valid"),
        CheckConstraint("window_end >= window_start", name="window_ordered"),
        CheckConstraint("party_size >= 1", name="party_size_positive"),
        CheckConstraint(
            "status <> 'offered' OR (offer_hold_id IS NOT NULL AND offer_expires_at IS NOT NULL)", name="offer_has_hold"
        ),
        Index(
            "ix_waitlist_entries_restaurant_id_service_date", "restaurant_id", "service_date", "status", "created_at"
        ),
        Index("ix_waitlist_entries_user_id_created_at", "user_id", "created_at"),
        # One open entry per guest, restaurant and date.
        Index(
            "uq_waitlist_entries_open",
            "user_id",
            "restaurant_id",
            "service_date",
            unique=True,
            postgresql_where=text("status IN ('waiting', 'offered')"),
        ),
        Index("ix_waitlist_entries_offered", "offer_expires_at", postgresql_where=text("status = 'offered'")),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    restaurant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("restaurants.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    service_date: Mapped[date] = mapped_column(Date)
    window_start: Mapped[time] = mapped_column(Time)
    window_end: Mapped[time] = mapped_column(Time)
    party_size: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[str] = mapped_column(String(20), default=WaitlistStatus.WAITING)
    offer_hold_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    offer_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    restaurant: Mapped[Restaurant] = relationship()


class TableOccupancy(Base):
    """One table taken for an exact span of time by a reservation, a hold or a staff block.

    The exclusion constraint is the invariant: two claims on one table whose `[starts_at,
    ends_at)` ranges overlap cannot both commit, whatever the slot grid, time zone or stay
    length they were made under, and whoever wrote them. GiST compares the table as the
    one-point range `[table_key, table_key]` (no btree_gist needed) and the stay as a
    `tstzrange`; the composite foreign key makes `table_key` its table's own key. A hold's
    claim carries its `expires_at` so that every availability query can ignore it the moment
    the hold expires; allocations purge expired holds before they claim a table, so an
    expired claim never blocks anyone.
    """

    __tablename__ = "table_occupancies"
    __table_args__ = (
        ExcludeConstraint(
            (func.int8range(column("table_key"), column("table_key"), literal_column("'[]'")), "&&"),
            (func.tstzrange(column("starts_at"), column("ends_at")), "&&"),
            using="gist",
            name="xcl_table_occupancies_no_overlap",
        ),
        ForeignKeyConstraint(
            ["table_id", "table_key"],
            ["dining_tables.id", "dining_tables.occupancy_key"],
            ondelete="CASCADE",
            name="fk_table_occupancies_table_id_dining_tables",
        ),
        CheckConstraint("num_nonnulls(reservation_id, hold_id, block_id) = 1", name="one_owner"),
        CheckConstraint("(hold_id IS NULL) = (expires_at IS NULL)", name="hold_rows_expire"),
        CheckConstraint("ends_at > starts_at", name="ends_after_starts"),
        # Bounded, so "claims overlapping a span" is a range scan on starts_at (MAX_CLAIM).
        CheckConstraint("ends_at <= starts_at + interval '1 day'", name="at_most_a_day"),
        Index("ix_table_occupancies_restaurant_id_starts_at", "restaurant_id", "starts_at"),
        Index("ix_table_occupancies_table_id_starts_at", "table_id", "starts_at"),
        Index("ix_table_occupancies_reservation_id", "reservation_id"),
        Index("ix_table_occupancies_hold_id", "hold_id"),
        Index("ix_table_occupancies_block_id", "block_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    restaurant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("restaurants.id", ondelete="CASCADE"))
    table_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    table_key: Mapped[int] = mapped_column(BigInteger)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reservation_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("reservations.id", ondelete="CASCADE"))
    hold_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("holds.id", ondelete="CASCADE"))
    block_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("table_blocks.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class TableBlock(Base):
    """A table taken out of service for a while by staff (seed 001 TableBlock): "T4, Friday 19-23, private event".

    It occupies the table through the same `table_occupancies` exclusion constraint as any
    booking (one claim per day of its span: a claim is at most a day long), so nothing can be
    booked on it and it cannot be laid over a booking.
    """

    __tablename__ = "table_blocks"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_starts"),
        Index("ix_table_blocks_table_id_starts_at", "table_id", "starts_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    restaurant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("restaurants.id", ondelete="CASCADE"))
    table_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dining_tables.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    table: Mapped[DiningTable] = relationship()


# The longest claim the database accepts (ck_table_occupancies_at_most_a_day).
MAX_CLAIM = timedelta(days=1)

OCCUPANCY_EXCLUSION_CONSTRAINT = "xcl_table_occupancies_no_overlap"
HOLD_USER_UNIQUE_CONSTRAINT = "uq_holds_user_id"
RESERVATION_HOLD_UNIQUE_CONSTRAINT = "uq_reservations_hold_id"
CONFIRMATION_CODE_UNIQUE_CONSTRAINT = "uq_reservations_confirmation_code"


class ManageToken(Base):
    """A guest's manage link (`/manage/<token>`): only the SHA-256 of its secret is kept.

    Minted when an email carrying the link is rendered (api/booking/notifications.py), so a
    reservation may have several, all valid until its visit is over (api/booking/manage.py).
    """

    __tablename__ = "manage_tokens"
    __table_args__ = (Index("ix_manage_tokens_reservation_id", "reservation_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    reservation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("reservations.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    reservation: Mapped[Reservation] = relationship()
