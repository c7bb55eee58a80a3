"""A proposal from one guest to another to swap their reservations at one restaurant."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, SmallInteger, String, Text, func, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.booking.models import Reservation
from api.db import Base, check_constraint_for


class TradeStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"  # not answered before the earlier start, or overtaken by another swap


class Trade(Base):
    """Who offers which reservation for which, and the two bookings as they stood when proposed.

    Accepting re-checks the snapshot: if either booking moved, changed size or was cancelled
    since, the swap is refused (409 TRADE_STALE) rather than made on terms nobody agreed to.
    """

    __tablename__ = "trades"
    __table_args__ = (
        CheckConstraint(check_constraint_for(TradeStatus, "status"), name="status_valid"),
        CheckConstraint("requester_reservation_id <> target_reservation_id", name="two_reservations"),
        CheckConstraint("requester_id <> target_id", name="two_guests"),
        # One open proposal per pair of bookings, also under concurrent proposals.
        Index(
            "uq_trades_open_pair",
            "requester_reservation_id",
            "target_reservation_id",
            unique=True,
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_trades_requester_id_created_at", "requester_id", "created_at"),
        Index("ix_trades_target_id_created_at", "target_id", "created_at"),
        Index("ix_trades_pending_expires_at", "expires_at", postgresql_where=text("status = 'pending'")),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    restaurant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("restaurants.id", ondelete="CASCADE"))
    requester_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    target_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    requester_reservation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("reservations.id", ondelete="CASCADE"))
    target_reservation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("reservations.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20), default=TradeStatus.PENDING)
    message: Mapped[str] = mapped_column(Text, default="")
    response_message: Mapped[str] = mapped_column(Text, default="")
    # The two bookings as proposed: (start, table, party) of each.
    requester_starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    requester_table_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    requester_party_size: Mapped[int] = mapped_column(SmallInteger)
    target_starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    target_table_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    target_party_size: Mapped[int] = mapped_column(SmallInteger)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    requester_reservation: Mapped[Reservation] = relationship(foreign_keys=[requester_reservation_id])
    target_reservation: Mapped[Reservation] = relationship(foreign_keys=[target_reservation_id])
