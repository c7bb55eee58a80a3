"""The outbox: messages written in the same transaction as the change they report, and the
periodic jobs' last runs (one row per job, claimed by one worker per interval)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Index, Integer, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        # The worker's queue: only pending messages, oldest due first.
        Index(
            "ix_outbox_messages_pending",
            "available_at",
            "id",
            postgresql_where=text("processed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    available_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # A worker's lease: the message is being handled until then; after it, another worker may retry.
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set by `enqueue_once`: a second message with the same key is never queued (a handler that
    # fans out and runs again after a crash queues nothing new).
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)


class PeriodicJobRun(Base):
    """When a periodic job was last started: a worker that moves `last_run_at` forward runs the job.

    Claiming is one conditional upsert, so across any number of workers a job starts once per interval.
    """

    __tablename__ = "periodic_jobs"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    last_run_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
