"""Customers without an email: staff book phone and walk-in guests by name and phone.

The unique constraint on `customers.email` stays: PostgreSQL's unique constraints admit any
number of NULLs, so it still allows one customer per address.

Revision ID: b2e8d4f01c22
Revises: a1f7c3e90b11
Create Date: 2026-12-02 13:01:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b2e8d4f01c22"
down_revision: str | None = "a1f7c3e90b11"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.alter_column("customers", "email", existing_type=sa.String(length=254), nullable=True)


def downgrade() -> None:
    # The old schema needs an address: give each guest without one a unique, undeliverable one.
    op.execute("UPDATE customers SET email = 'no-email-' || id::text || '@invalid' WHERE email IS NULL")
    op.alter_column("customers", "email", existing_type=sa.String(length=254), nullable=False)
