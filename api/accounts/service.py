"""Account rules: registration, sign-in, refresh-token rotation with reuse detection, user management
(admins), one's own profile and password. The reset-by-email flow is in recovery.py.

Refresh tokens rotate on every use and chain into a *family* per sign-in. Presenting a token
that was already consumed means two parties hold it (a thief, or a replay): the whole family is
revoked, so the newer token the thief or the victim holds stops working too (RFC 9700 §4.14.2),
and so do the access tokens issued with the family's tokens. One exception: the same client
presenting it again within `REFRESH_GRACE_SECONDS` (two tabs refreshing at once) gets the pair
already issued for it.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from api.accounts import tokens
from api.accounts.models import (
    USERS_EMAIL_UNIQUE,
    USERS_RESTAURANT_FK,
    PasswordResetToken,
    RefreshToken,
    Role,
    User,
)
from api.accounts.passwords import hash_password, needs_rehash, verify_password
from api.db import atomic
from api.errors import AppError, Conflict, ErrorCode, Forbidden, NotFound, Unauthorized, Unprocessable
from api.extensions import db
from api.outbox import service as outbox_service

logger = logging.getLogger("api.accounts")

PASSWORD_MIN_LENGTH = 10
# How long after a rotation the same client may present the rotated token again and get the same
# new pair (two tabs, a retried request) instead of revoking the family.
REFRESH_GRACE_SECONDS = 5

# The outbox message that asks the worker to mail a reset (or invitation) link (api/accounts/recovery.py).
PASSWORD_RESET_REQUESTED = "password_reset.requested"

# A sentinel for "field not sent" in partial updates, where None is a meaningful value.
UNSET: Any = object()


@dataclass(frozen=True)
class SignIn:
    """What a successful sign-in or refresh hands out. The refresh token goes only into the cookie."""

    user: User
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_at: datetime
    token_type: str = "Bearer"


@dataclass(frozen=True)
class UserPage:
    items: list[User]
    total: int


@dataclass(frozen=True)
class UsersSummary:
    total_users: int
    by_role: dict[str, int]
    active_users: int


# The app frontend's `User` carries its discovery preferences. Discovery stands on accounts, so it
# hands its reader in at start-up (`register_profile_preferences`), as domains do with the outbox.
_profile_preferences: list[Callable[[uuid.UUID], dict[str, Any]]] = []


def register_profile_preferences(reader: Callable[[uuid.UUID], dict[str, Any]]) -> None:
    """Start-up: the function that reads a user's preferences in the app's wire shape."""
    _profile_preferences[:] = [reader]


def profile_preferences(*, user_id: uuid.UUID) -> dict[str, Any]:
    """The user's preferences as the app frontend reads them (empty before discovery registers)."""
    return _profile_preferences[0](user_id) if _profile_preferences else {}


def split_name(name: str) -> tuple[str, str]:
    """The app's firstName and lastName: "Ada King Lovelace" -> ("Ada", "King Lovelace")."""
    first, _, last = (name or "").strip().partition(" ")
    return first, last.strip()


def join_name(first_name: str, last_name: str) -> str:
    return " ".join(part.strip() for part in (first_name, last_name) if part and part.strip())


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(*, email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def get_user(*, user_id: uuid.UUID) -> User:
    """The user with this id. :raise 404 USER_NOT_FOUND:"""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(ErrorCode.USER_NOT_FOUND, "No such user.")
    return user


def check_password_policy(*, password: str, email: str) -> None:
    """At least 10 characters, and not the email address (or its local part). :raise 422 WEAK_PASSWORD:"""
    email = normalise_email(email)
    lowered = password.strip().lower()
    if len(password) < PASSWORD_MIN_LENGTH or not lowered:
        raise Unprocessable(
            ErrorCode.WEAK_PASSWORD,
            f"Use at least {PASSWORD_MIN_LENGTH} characters.",
            details={"minLength": PASSWORD_MIN_LENGTH},
        )
    if lowered in {email, email.partition("@")[0]}:
        raise Unprocessable(ErrorCode.WEAK_PASSWORD, "The password must not be your email address.")


def register_user(*, email: str, password: str, name: str = "", phone: str = "", now: datetime) -> User:
    """Create a customer account; emails are unique case-insensitively.

    :raise 422 WEAK_PASSWORD: :raise 409 EMAIL_TAKEN: (also when a concurrent registration wins the race)
    """
    email = normalise_email(email)
    check_password_policy(password=password, email=email)
    # argon2 is deliberately slow: hash before the transaction opens.
    password_hash = hash_password(password)
    with atomic():
        user = User(
            email=email,
            password_hash=password_hash,
            name=name.strip(),
            phone=phone.strip(),
            role=Role.CUSTOMER,
            is_active=True,
            created_at=now,
            updated_at=now,
        )
        db.session.add(user)
        # No SELECT first: the unique constraint is the only check that holds under concurrency.
        try:
            db.session.flush()
        except IntegrityError as err:
            if _constraint_name(err) == USERS_EMAIL_UNIQUE:
                raise Conflict(ErrorCode.EMAIL_TAKEN, "An account with this email already exists.") from err
            raise
    return user


def sign_up(*, email: str, password: str, first_name: str = "", last_name: str = "", now: datetime) -> SignIn:
    """Create a customer account and sign it in at once (the app frontend's signup).

    :raise 422 WEAK_PASSWORD: :raise 409 EMAIL_TAKEN:
    """
    user = register_user(email=email, password=password, name=join_name(first_name, last_name), now=now)
    return start_session(user=user, now=now)


def sign_in(*, email: str, password: str, now: datetime) -> SignIn:
    """Check the credentials and open a new refresh-token family.

    Unknown email, wrong password and deactivated account all answer the same 401
    INVALID_CREDENTIALS after one full argon2 verification, so neither the answer nor its
    timing tells whether an account exists or is active. Rehashes the password when the
    argon2 parameters have changed. :raise 401 INVALID_CREDENTIALS:
    """
    user = find_user_by_email(email=email)
    valid = verify_password(user.password_hash if user is not None else None, password)
    if user is None or not valid or not user.is_active:
        raise Unauthorized(ErrorCode.INVALID_CREDENTIALS, "Wrong email or password.")
    if needs_rehash(user.password_hash):
        new_hash = hash_password(password)
        with atomic():
            user.password_hash = new_hash
            user.updated_at = now
    return start_session(user=user, now=now)


def start_session(*, user: User, now: datetime) -> SignIn:
    """Open a new refresh-token family for a user already authenticated (sign-in), with its first pair."""
    with atomic():
        refresh_token, row = _issue_refresh_token(user_id=user.id, family_id=uuid.uuid4(), now=now)
    return _session(user, refresh_token, row, now=now)


def refresh_session(*, refresh_token: str | None, client: str, now: datetime) -> SignIn:
    """Trade a refresh token for a new access token and a rotated refresh token (the old one is consumed).

    The token is consumed by one conditional UPDATE (`... WHERE consumed_at IS NULL`): of two
    requests racing with the same token, the second waits for the first's row lock, then finds
    it consumed. If the same `client` (address and user agent) consumed it less than
    `REFRESH_GRACE_SECONDS` ago and the pair it got is still unused, the second gets that same
    pair; otherwise it is reuse, and reuse revokes the whole family.

    :raise 401 UNAUTHORIZED: no token :raise 401 TOKEN_INVALID: unknown token
    :raise 401 TOKEN_REUSED: already consumed (family revoked) :raise 401 TOKEN_REVOKED: signed out,
    revoked family or deactivated user :raise 401 TOKEN_EXPIRED:
    """
    if not refresh_token:
        raise Unauthorized(ErrorCode.UNAUTHORIZED, "No refresh token: sign in.")
    token_hash = tokens.hash_refresh_token(refresh_token)
    new_token, new_hash = tokens.successor_refresh_token(refresh_token, client=client)
    failure: AppError | None = None
    with atomic():
        consumed = db.session.execute(
            update(RefreshToken)
            .where(
                RefreshToken.token_hash == token_hash,
                RefreshToken.consumed_at.is_(None),
                RefreshToken.revoked_at.is_(None),
                RefreshToken.expires_at > now,
            )
            .values(consumed_at=now)
            .returning(RefreshToken.user_id, RefreshToken.family_id)
            .execution_options(synchronize_session=False)
        ).one_or_none()
        if consumed is None:
            row = _successor_within_grace(token_hash, new_hash, now=now)
            if row is None:
                failure = _refresh_failure(token_hash, now=now)
            else:
                user = db.session.get(User, row.user_id)
        else:
            user = db.session.get(User, consumed.user_id)
            if user is None or not user.is_active:
                _revoke_family(consumed.family_id, now=now)
                failure = Unauthorized(ErrorCode.TOKEN_REVOKED, "This account is no longer active.")
            else:
                _, row = _issue_refresh_token(
                    user_id=user.id, family_id=consumed.family_id, now=now, token=(new_token, new_hash)
                )
    # Raised after the commit, so a family revoked on reuse stays revoked.
    if failure is not None:
        raise failure
    return _session(user, new_token, row, now=now)


def sign_out(*, refresh_token: str | None, now: datetime) -> None:
    """Revoke the family of this refresh token (idempotent: unknown or missing tokens are fine)."""
    if not refresh_token:
        return
    with atomic():
        family_id = db.session.scalar(
            select(RefreshToken.family_id).where(RefreshToken.token_hash == tokens.hash_refresh_token(refresh_token))
        )
        if family_id is not None:
            _revoke_family(family_id, now=now)


def list_users(*, page: int, page_size: int, role: str | None = None, email: str | None = None) -> UserPage:
    """One page of users, oldest first, filtered by role and by a case-insensitive email substring."""
    conditions = []
    if role is not None:
        conditions.append(User.role == role)
    if email:
        pattern = "%" + email.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(User.email.like(pattern, escape="\\"))
    total = db.session.scalar(select(func.count()).select_from(User).where(*conditions)) or 0
    items = db.session.scalars(
        select(User)
        .where(*conditions)
        .order_by(User.created_at, User.id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    return UserPage(items=list(items), total=total)


def create_user(
    *,
    actor: User,
    email: str,
    role: str,
    now: datetime,
    name: str = "",
    phone: str = "",
    restaurant_id: uuid.UUID | None = None,
    password: str | None = None,
) -> User:
    """An admin creates a customer, staff member or admin (staff work for a restaurant, others for none).

    With a `password` (the policy applies) the account can sign in at once. Without one it gets
    an unusable random password and an invitation email: a single-use link to choose one (the
    password-reset flow), so no admin ever knows a staff member's password.

    :raise 422 WEAK_PASSWORD: :raise 422 VALIDATION_ERROR: restaurantId missing for staff, given
    for others, or unknown :raise 409 EMAIL_TAKEN:
    """
    email = normalise_email(email)
    new_role = Role(role)
    restaurant = _restaurant_for_role(new_role, restaurant_id)
    if password is not None:
        check_password_policy(password=password, email=email)
    password_hash = hash_password(password if password is not None else secrets.token_urlsafe(32))
    with atomic():
        user = User(
            email=email,
            password_hash=password_hash,
            name=name.strip(),
            phone=phone.strip(),
            role=new_role,
            restaurant_id=restaurant,
            is_active=True,
            created_at=now,
            updated_at=now,
        )
        db.session.add(user)
        try:
            db.session.flush()
        except IntegrityError as err:
            if _constraint_name(err) == USERS_EMAIL_UNIQUE:
                raise Conflict(ErrorCode.EMAIL_TAKEN, "An account with this email already exists.") from err
            if _constraint_name(err) == USERS_RESTAURANT_FK:
                raise _field_error("restaurantId", "No such restaurant.") from err
            raise
        if password is None:
            queue_password_email(email=email, now=now, invited=True)
    logger.info("user created", extra={"user_id": str(user.id), "role": str(new_role), "by": str(actor.id)})
    return user


def update_user(
    *,
    user_id: uuid.UUID,
    actor: User,
    now: datetime,
    name: str | None = None,
    phone: str | None = None,
    role: str | None = None,
    is_active: bool | None = None,
    restaurant_id: uuid.UUID | None = UNSET,
) -> User:
    """Change a user's name, phone, role, active flag or restaurant (admins only; the route checks the role).

    Staff must work for a restaurant; customers and admins work for none. Deactivating a user
    revokes all their refresh tokens; their access tokens already stop at the next request
    (the JWT user loader refuses inactive users). Admins cannot demote or deactivate themselves,
    so the last admin cannot lock everyone out.

    :raise 404 USER_NOT_FOUND: :raise 403 FORBIDDEN: self-demotion
    :raise 422 VALIDATION_ERROR: restaurantId missing for staff, given for others, or unknown
    """
    with atomic():
        user = db.session.get(User, user_id, with_for_update=True)
        if user is None:
            raise NotFound(ErrorCode.USER_NOT_FOUND, "No such user.")
        new_role = Role(role) if role is not None else Role(user.role)
        if user.id == actor.id and (new_role != Role.ADMIN or is_active is False):
            raise Forbidden(ErrorCode.FORBIDDEN, "Admins cannot demote or deactivate themselves.")
        if new_role == Role.STAFF and restaurant_id is UNSET:
            new_restaurant = _restaurant_for_role(new_role, user.restaurant_id)
        else:
            new_restaurant = _restaurant_for_role(new_role, None if restaurant_id is UNSET else restaurant_id)
        if is_active is False and user.is_active:
            _revoke_user_tokens(user.id, now=now)
        user.role = new_role
        user.restaurant_id = new_restaurant
        if is_active is not None:
            user.is_active = is_active
        if name is not None:
            user.name = name.strip()
        if phone is not None:
            user.phone = phone.strip()
        user.updated_at = now
        try:
            db.session.flush()
        except IntegrityError as err:
            if _constraint_name(err) == USERS_RESTAURANT_FK:
                raise _field_error("restaurantId", "No such restaurant.") from err
            raise
    return user


def _restaurant_for_role(role: Role, restaurant_id: uuid.UUID | None) -> uuid.UUID | None:
    """The restaurant a user of `role` works for. :raise 422 VALIDATION_ERROR: staff without, others with one."""
    if role == Role.STAFF:
        if restaurant_id is None:
            raise _field_error("restaurantId", "Staff must work for a restaurant.")
        return restaurant_id
    if restaurant_id is not None:
        raise _field_error("restaurantId", "Only staff work for a restaurant.")
    return None


def users_summary() -> UsersSummary:
    """How many users there are, in all and per role (every role listed, zero included), and how many are active."""
    rows = db.session.execute(
        select(User.role, func.count(), func.count().filter(User.is_active)).group_by(User.role)
    ).all()
    by_role = {role.value: 0 for role in Role}
    by_role.update({role: count for role, count, _ in rows})
    return UsersSummary(
        total_users=sum(by_role.values()), by_role=by_role, active_users=sum(active for _, _, active in rows)
    )


def update_own_profile(*, user: User, now: datetime, name: str | None = None, phone: str | None = None) -> User:
    """A user changes their own name and phone (role, restaurant and email are the admins' to change)."""
    with atomic():
        if name is not None:
            user.name = name.strip()
        if phone is not None:
            user.phone = phone.strip()
        user.updated_at = now
    return user


def change_password(
    *, user: User, current_password: str, new_password: str, session_id: uuid.UUID | None, now: datetime
) -> None:
    """Change one's own password, proving the current one; every other session of the user ends.

    `session_id` is the refresh-token row the caller's access token was issued with (its `jti`):
    that sign-in's family stays alive, every other family (other devices, and whoever stole a
    token) is revoked, with their access tokens. Outstanding reset links die too.

    :raise 403 WRONG_PASSWORD: :raise 422 WEAK_PASSWORD:
    """
    if not verify_password(user.password_hash, current_password):
        raise Forbidden(ErrorCode.WRONG_PASSWORD, "The current password is wrong.")
    check_password_policy(password=new_password, email=user.email)
    password_hash = hash_password(new_password)
    with atomic():
        keep_family = (
            db.session.scalar(select(RefreshToken.family_id).where(RefreshToken.id == session_id))
            if session_id is not None
            else None
        )
        user.password_hash = password_hash
        user.updated_at = now
        _revoke_user_tokens(user.id, now=now, except_family=keep_family)
        end_password_resets(user_id=user.id, now=now)


def queue_password_email(*, email: str, now: datetime, invited: bool = False) -> None:
    """Queue a password-reset (or invitation) email for `email` in the caller's transaction.

    Only the address and a fresh request id go into the outbox: the worker looks the account up,
    stores the hashed token and mails the link (api/accounts/recovery.py), so the caller does the
    same work whether or not the address has an account.
    """
    outbox_service.enqueue(
        PASSWORD_RESET_REQUESTED,
        request_id=uuid.uuid4(),
        email=normalise_email(email),
        requested_at=now.isoformat(),
        invited=invited,
    )


def end_password_resets(*, user_id: uuid.UUID, now: datetime) -> None:
    """Mark every outstanding reset link of the user used (flush only): a new password ends them all."""
    db.session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user_id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )


def prune_refresh_tokens(*, now: datetime) -> int:
    """Delete refresh tokens past their expiry; return how many.

    Consumed and revoked tokens stay until they expire: they are what reuse detection recognises.
    """
    with atomic():
        result = db.session.execute(
            delete(RefreshToken).where(RefreshToken.expires_at <= now).execution_options(synchronize_session=False)
        )
    return result.rowcount or 0


def ensure_admin(*, email: str, password: str, name: str = "Administrator") -> tuple[User, bool]:
    """Create the admin account if it does not exist (flushes only). Returns (user, created)."""
    existing = find_user_by_email(email=email)
    if existing is not None:
        return existing, False
    user = User(email=normalise_email(email), password_hash=hash_password(password), name=name, role=Role.ADMIN)
    db.session.add(user)
    db.session.flush()
    return user, True


def _session(user: User, refresh_token: str, row: RefreshToken, *, now: datetime) -> SignIn:
    access_token, expires_in = tokens.issue_access_token(user, session=row, now=now)
    return SignIn(
        user=user,
        access_token=access_token,
        expires_in=expires_in,
        refresh_token=refresh_token,
        refresh_expires_at=row.expires_at,
    )


def _issue_refresh_token(
    *, user_id: uuid.UUID, family_id: uuid.UUID, now: datetime, token: tuple[str, str] | None = None
) -> tuple[str, RefreshToken]:
    """Store the hash of a refresh token (`token`, else a random one) in `family_id` (flush only)."""
    token, token_hash = token or tokens.new_refresh_token()
    row = RefreshToken(
        id=uuid.uuid4(),
        user_id=user_id,
        family_id=family_id,
        token_hash=token_hash,
        issued_at=now,
        expires_at=now + timedelta(days=current_app.config["SETTINGS"].jwt_refresh_days),
    )
    db.session.add(row)
    db.session.flush()
    return token, row


def _successor_within_grace(token_hash: str, successor_hash: str, *, now: datetime) -> RefreshToken | None:
    """The unused successor this client was given for `token_hash`, if that rotation is under the grace window."""
    consumed = aliased(RefreshToken)
    return db.session.scalar(
        select(RefreshToken)
        .join(consumed, consumed.family_id == RefreshToken.family_id)
        .where(
            consumed.token_hash == token_hash,
            consumed.revoked_at.is_(None),
            consumed.consumed_at > now - timedelta(seconds=REFRESH_GRACE_SECONDS),
            RefreshToken.token_hash == successor_hash,
            RefreshToken.consumed_at.is_(None),
            RefreshToken.revoked_at.is_(None),
            RefreshToken.expires_at > now,
        )
        .execution_options(populate_existing=True)
    )


def _refresh_failure(token_hash: str, *, now: datetime) -> AppError:
    """Why a refresh token could not be consumed; on reuse, revoke its family first."""
    token = db.session.scalar(select(RefreshToken).where(RefreshToken.token_hash == token_hash))
    if token is None:
        return Unauthorized(ErrorCode.TOKEN_INVALID, "The refresh token is not valid: sign in.")
    if token.consumed_at is not None:
        _revoke_family(token.family_id, now=now)
        logger.warning(
            "refresh token reused; family revoked",
            extra={"user_id": str(token.user_id), "family_id": str(token.family_id)},
        )
        return Unauthorized(ErrorCode.TOKEN_REUSED, "This refresh token was already used: sign in again.")
    if token.revoked_at is not None:
        return Unauthorized(ErrorCode.TOKEN_REVOKED, "This session has ended: sign in again.")
    return Unauthorized(ErrorCode.TOKEN_EXPIRED, "The refresh token has expired: sign in again.")


def _revoke_family(family_id: uuid.UUID, *, now: datetime) -> None:
    db.session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )


def _revoke_user_tokens(user_id: uuid.UUID, *, now: datetime, except_family: uuid.UUID | None = None) -> None:
    """Revoke every refresh token of the user (but those of `except_family`): their sessions end."""
    keep = [RefreshToken.family_id != except_family] if except_family is not None else []
    db.session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None), *keep)
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )


def _field_error(field: str, message: str) -> Unprocessable:
    return Unprocessable(ErrorCode.VALIDATION_ERROR, message, details={"fields": {field: [message]}})


def _constraint_name(err: IntegrityError) -> str | None:
    diag = getattr(err.orig, "diag", None)
    return getattr(diag, "constraint_name", None)
