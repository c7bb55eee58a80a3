"""Machinery behind tests/test_authz_matrix.py: callers (personas), access presets, requests, context.

Read the matrix file first; this module only gives its table a vocabulary.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flask_jwt_extended import create_access_token

from api.accounts.models import Role, User
from api.extensions import db
from tests.conftest import session_token

# The callers every route is tried with, in this order.
ANONYMOUS = "anonymous"  # no Authorization header
EXPIRED = "expired"  # the customer's token, expired
TAMPERED = "tampered"  # the customer's token with its payload changed to claim the admin (bad signature)
CUSTOMER = "customer"  # owns the resources that builders create
OTHER = "other"  # another customer
STAFF = "staff"  # works for ctx.restaurant (Café Fausse)
ADMIN = "admin"
PERSONAS = (ANONYMOUS, EXPIRED, TAMPERED, CUSTOMER, OTHER, STAFF, ADMIN)

# What a refused token must answer, whatever the route.
TOKEN_ERROR_CODES = {ANONYMOUS: "UNAUTHORIZED", EXPIRED: "TOKEN_EXPIRED", TAMPERED: "TOKEN_INVALID"}

Expected = int | frozenset[int]
Access = dict[str, Expected]


def _access(defaults: dict[str, Expected], overrides: dict[str, Any]) -> Access:
    unknown = set(overrides) - set(PERSONAS)
    if unknown:
        raise TypeError(f"unknown persona(s) {sorted(unknown)}; use {PERSONAS}")
    return {who: _expected(overrides.get(who, defaults[who])) for who in PERSONAS}


def _expected(value: int | Iterable[int]) -> Expected:
    return value if isinstance(value, int) else frozenset(value)


def public(ok: int | Iterable[int] = 200, **overrides: Any) -> Access:
    """Anyone, with or without a token (tokens are not even looked at)."""
    return _access(dict.fromkeys(PERSONAS, ok), overrides)


def optional_auth(ok: int | Iterable[int] = 200, **overrides: Any) -> Access:
    """Anyone; a token is used when sent, so a bad one is refused (401)."""
    return _access({**dict.fromkeys(PERSONAS, ok), EXPIRED: 401, TAMPERED: 401}, overrides)


def signed_in(ok: int | Iterable[int] = 200, **overrides: Any) -> Access:
    """Any signed-in user, whatever the role."""
    return _access({**dict.fromkeys(PERSONAS, ok), ANONYMOUS: 401, EXPIRED: 401, TAMPERED: 401}, overrides)


def staff_only(ok: int | Iterable[int] = 200, **overrides: Any) -> Access:
    """Staff (of the restaurant concerned) and admins; customers get 403."""
    return signed_in(ok, **{CUSTOMER: 403, OTHER: 403, **overrides})


def admin_only(ok: int | Iterable[int] = 200, **overrides: Any) -> Access:
    """Admins only; customers and staff get 403."""
    return signed_in(ok, **{CUSTOMER: 403, OTHER: 403, STAFF: 403, **overrides})


def owner_or_404(ok: int | Iterable[int] = 200, **overrides: Any) -> Access:
    """The builder's resource belongs to ctx.customer (and ctx.restaurant): the owner, the restaurant's
    staff and admins get `ok`; another customer gets 404, as if it did not exist."""
    return signed_in(ok, **{OTHER: 404, **overrides})


@dataclass
class Req:
    """One request. `path` defaults to the rule itself (fine when the rule has no parameters)."""

    path: str | None = None
    json: Any = None
    query: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)


Builder = Callable[["Ctx", str], Req]


@dataclass
class Ctx:
    """What builders get: the persona's users, a restaurant, and a cache for shared setup."""

    customer: User
    other_customer: User
    staff: User
    admin: User
    restaurant: Any
    # make_user(role=Role.CUSTOMER, email=None, restaurant_id=None) -> User (flushed; password as the personas')
    make_user: Callable[..., User]
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    _cache: dict[str, Any] = field(default_factory=dict)

    def user(self, who: str) -> User | None:
        """The user behind a persona (expired and tampered tokens are the customer's)."""
        return {
            ANONYMOUS: None,
            EXPIRED: self.customer,
            TAMPERED: self.customer,
            CUSTOMER: self.customer,
            OTHER: self.other_customer,
            STAFF: self.staff,
            ADMIN: self.admin,
        }[who]

    def once(self, key: str, factory: Callable[[], Any]) -> Any:
        """Run `factory` the first time `key` is asked for (in this test), then return the same object."""
        if key not in self._cache:
            self._cache[key] = factory()
            self.keep()
        return self._cache[key]

    def keep(self) -> None:
        """Make rows created so far survive an error response later in the test.

        Requests share the test's session; a service error rolls it back to the last commit,
        which in the test harness only releases a savepoint (the test's outer transaction
        is still rolled back at the end).
        """
        db.session.commit()

    @staticmethod
    def unique(prefix: str = "x") -> str:
        return f"{prefix}-{uuid.uuid4().hex[:10]}"


def persona_headers(ctx: Ctx, who: str) -> dict[str, str]:
    """The Authorization header each persona sends."""
    if who == ANONYMOUS:
        return {}
    if who == EXPIRED:
        token = create_access_token(
            identity=str(ctx.customer.id),
            additional_claims={"role": Role.CUSTOMER},
            expires_delta=timedelta(seconds=-60),
        )
        return {"Authorization": f"Bearer {token}"}
    if who == TAMPERED:
        token = session_token(ctx.customer)
        header, payload, signature = token.split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        claims.update(sub=str(ctx.admin.id), role=Role.ADMIN)
        forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
        return {"Authorization": f"Bearer {header}.{forged}.{signature}"}
    user = ctx.user(who)
    assert user is not None
    return {"Authorization": f"Bearer {session_token(user)}"}


def matches(expected: Expected, status: int) -> bool:
    return status == expected if isinstance(expected, int) else status in expected
