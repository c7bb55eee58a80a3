"""The one authorisation helper every endpoint uses.

- `auth_required(*roles)` guards a view: a valid Bearer token of an active user, with one of
  `roles` when given (403 FORBIDDEN otherwise). It also documents the bearer scheme in OpenAPI.
  The token comes from the Bearer header or, for same-origin frontends, the HttpOnly access
  cookie; a write authenticated by the cookie must come from an allowed `Origin` (403
  ORIGIN_NOT_ALLOWED), so another site cannot ride on it (CSRF).
- `current_account()` is the signed-in user.
- `ensure_acting_for(user_id, actor)`: seed 000 sends `userId`; it must be the caller unless
  the caller is staff or admin (403 USER_MISMATCH). The app's literal "current_user" and an
  absent `userId` both mean the caller. Staff pass only this first gate: the
  service must then keep them inside their restaurant (`ensure_can_manage_restaurant`).
- `ensure_self_or_admin(user_id, actor)`: a user's personal data (discovery preferences with
  the home location, swipes, the feed) is theirs and the admins', never staff's (403 USER_MISMATCH).
- `ensure_can_manage_restaurant(actor, restaurant_id)`: staff work for their own restaurant.
- `can_see(actor, owner_id=, restaurant_id=)` / `owned_or_404(obj, actor, code=)`: services
  load a resource by id and pass it through `owned_or_404`. A customer asking for someone
  else's resource gets 404 (not 403), so ids cannot be probed; staff see what belongs to
  their restaurant; admins see everything.
- `restaurant_scope(actor)`: for listings, the restaurant a staff member is limited to
  (None for admins, who see all; 403 for customers).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, request
from flask_jwt_extended import current_user, get_jwt_request_location, verify_jwt_in_request

from api.accounts.models import Role, User
from api.errors import ErrorCode, Forbidden, NotFound

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

BEARER_SECURITY = [{"bearerAuth": []}]
STAFF_ROLES = (Role.STAFF, Role.ADMIN)
# What the app frontend sends as `userId` (it never learns its id): the caller.
CURRENT_USER = "current_user"
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def auth_required(*roles: Role, optional: bool = False) -> Callable[[F], F]:
    """Require a signed-in, active user (of one of `roles`, if given)."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            verify_jwt_in_request(optional=optional)
            check_cookie_origin()
            user = current_account(optional=optional)
            if roles and (user is None or user.role not in roles):
                raise Forbidden(ErrorCode.FORBIDDEN, "Your role may not do this.")
            return view(*args, **kwargs)

        doc = getattr(wrapper, "_apidoc", {})
        wrapper._apidoc = {**doc, "manual_doc": {**doc.get("manual_doc", {}), "security": BEARER_SECURITY}}  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


def check_cookie_origin() -> None:
    """A write authenticated by the access cookie must come from the API's own origin or `CORS_ORIGINS`.

    SameSite=Lax keeps the cookie off cross-site writes, not off those from the same site (another
    port or subdomain of the host); browsers send `Origin` with every POST, PUT, PATCH and DELETE,
    so this closes that gap. Bearer requests need no check: no other page can make a browser send
    our header.
    """
    if request.method not in _UNSAFE_METHODS or get_jwt_request_location() != "cookies":
        return
    origin = (request.headers.get("Origin") or "").rstrip("/")
    if origin and (origin in current_app.config["SETTINGS"].allowed_origins or origin == request.host_url.rstrip("/")):
        return
    raise Forbidden(
        ErrorCode.ORIGIN_NOT_ALLOWED,
        "A cookie-authenticated change must come from an allowed origin; send 'Authorization: Bearer' instead.",
        details={"origin": origin or None},
    )


def current_account(optional: bool = False) -> User | None:
    """The signed-in user (None only when the view allowed anonymous callers)."""
    user = current_user if optional else current_user._get_current_object()
    return user or None


def ensure_acting_for(user_id: uuid.UUID | str | None, actor: User) -> uuid.UUID:
    """The `userId` a seed-000 client sent must be the caller's own, unless the caller is staff.

    Staff acting for a guest must then be held to their own restaurant by the caller
    (`ensure_can_manage_restaurant`); for personal data use `ensure_self_or_admin`.
    """
    return _user_acted_for(user_id, actor, others_allowed=STAFF_ROLES)


def ensure_self_or_admin(user_id: uuid.UUID | str | None, actor: User) -> uuid.UUID:
    """The `userId` must be the caller's own, unless the caller is an admin (staff included: 403)."""
    return _user_acted_for(user_id, actor, others_allowed=(Role.ADMIN,))


def _user_acted_for(user_id: uuid.UUID | str | None, actor: User, *, others_allowed: tuple[Role, ...]) -> uuid.UUID:
    if user_id is None or user_id == CURRENT_USER:
        return actor.id
    try:
        wanted = user_id if isinstance(user_id, uuid.UUID) else uuid.UUID(str(user_id))
    except ValueError as err:
        raise Forbidden(ErrorCode.USER_MISMATCH, "userId does not match the signed-in user.") from err
    if wanted != actor.id and actor.role not in others_allowed:
        raise Forbidden(ErrorCode.USER_MISMATCH, "userId does not match the signed-in user.")
    return wanted


def ensure_can_manage_restaurant(actor: User, restaurant_id: uuid.UUID) -> None:
    """Admins manage every restaurant; staff only the one they work for."""
    if actor.role == Role.ADMIN:
        return
    if actor.role == Role.STAFF and actor.restaurant_id == restaurant_id:
        return
    raise Forbidden(ErrorCode.FORBIDDEN, "You do not manage this restaurant.")


def can_see(actor: User, *, owner_id: uuid.UUID | None, restaurant_id: uuid.UUID | None = None) -> bool:
    """Admins see everything; staff what belongs to their restaurant; everyone what is their own."""
    if actor.role == Role.ADMIN:
        return True
    if owner_id is not None and owner_id == actor.id:
        return True
    return actor.role == Role.STAFF and restaurant_id is not None and restaurant_id == actor.restaurant_id


def owned_or_404(
    obj: T | None,
    actor: User,
    *,
    code: ErrorCode = ErrorCode.NOT_FOUND,
    owner_attr: str = "user_id",
    restaurant_attr: str = "restaurant_id",
) -> T:
    """`obj` when `actor` may see it (see `can_see`); otherwise 404 with `code`, as if it did not exist."""
    if obj is None or not can_see(
        actor, owner_id=getattr(obj, owner_attr, None), restaurant_id=getattr(obj, restaurant_attr, None)
    ):
        raise NotFound(code, "No such resource.")
    return obj


def restaurant_scope(actor: User) -> uuid.UUID | None:
    """The restaurant a staff listing is limited to; None for admins (everything). Customers: 403."""
    if actor.role == Role.ADMIN:
        return None
    if actor.role == Role.STAFF and actor.restaurant_id is not None:
        return actor.restaurant_id
    raise Forbidden(ErrorCode.FORBIDDEN, "Only staff and admins see restaurant operations.")
