"""Discovery: the app's dietary restrictions and home address, and the match score a favourite was liked at.

Revision ID: c3d9f2e81a47
Revises: b7e1c4a90d21
Create Date: 2026-12-02 09:31:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c3d9f2e81a47"
down_revision: str | None = "b7e1c4a90d21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("user_preferences", sa.Column("dietary_restrictions", sa.ARRAY(sa.String(length=60)), nullable=True))
    op.add_column("user_preferences", sa.Column("home_address", sa.String(length=200), nullable=True))
    op.add_column("swipes", sa.Column("match_score", sa.SmallInteger(), nullable=True))
    op.create_check_constraint(op.f("ck_swipes_match_score_0_100"), "swipes", "match_score BETWEEN 0 AND 100")


def downgrade() -> None:
    op.drop_constraint(op.f("ck_swipes_match_score_0_100"), "swipes", type_="check")
    op.drop_column("swipes", "match_score")
    op.drop_column("user_preferences", "home_address")
    op.drop_column("user_preferences", "dietary_restrictions")
