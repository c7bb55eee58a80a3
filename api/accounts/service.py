"""Account rules: creating users and admins."""

from __future__ import annotations

from sqlalchemy import select

from api.accounts.models import Role, User
from api.accounts.passwords import hash_password
from api.extensions import db


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(*, email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def ensure_admin(*, email: str, password: str, name: str = "Administrator") -> tuple[User, bool]:
    """Create the admin account if it does not exist (flushes only). Returns (user, created)."""
    existing = find_user_by_email(email=email)
    if existing is not None:
        return existing, False
    user = User(email=normalise_email(email), password_hash=hash_password(password), name=name, role=Role.ADMIN)
    db.session.add(user)
    db.session.flush()
    return user, True
