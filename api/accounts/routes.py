"""Accounts over HTTP: `/api/auth` (sign-up, sign-in, sessions, password reset), `/api/admin/users`
(user management) and `/api/users` (the people summary; one's own profile and password).

Sign-in answers an access token in the body and sets the refresh token as an HttpOnly,
SameSite=Strict cookie on Path=/api/auth (`__Secure-refresh_token` when Secure); `/refresh`
rotates it and `/logout` ends the family. Both check a browser's `Origin` (CSRF).
Sign-in, sign-up and refresh also set the access token as an HttpOnly, SameSite=Lax cookie on
Path=/api, which a frontend served from the API's own origin uses instead of the Bearer header.
Rate limits: login per client IP (every attempt) and per email (failures only, with a growing
back-off that a success resets), register and sign-up per IP and per email, refresh per IP,
password-reset requests per IP and per email, their confirmations per IP, and wrong current
passwords per user.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Response, after_this_request, request
from flask.views import MethodView
from flask_jwt_extended import get_jwt, set_access_cookies, unset_access_cookies
from flask_limiter.util import get_remote_address
from flask_smorest import Blueprint

from api.accounts import recovery, tokens
from api.accounts import service as accounts_service
from api.accounts.authz import auth_required, current_account
from api.accounts.models import Role, User
from api.accounts.schemas import (
    AcceptedSchema,
    AccountSignupSchema,
    LoginSchema,
    PasswordChangeSchema,
    PasswordResetConfirmSchema,
    PasswordResetRequestSchema,
    ProfileUpdateSchema,
    RefreshCookieSchema,
    RegisterSchema,
    SessionSchema,
    UserCreateSchema,
    UserListQuerySchema,
    UserPageSchema,
    UserSchema,
    UsersSummarySchema,
    UserUpdateSchema,
)
from api.extensions import limiter
from api.ratelimit import RATE_LIMITED, email_key, failed, forget_failures, setting, user_key
from api.schemas import ErrorSchema, pagination

blp = Blueprint("auth", __name__, url_prefix="/api/auth", description="Sign-up, sign-in and sessions")
admin_blp = Blueprint(
    "admin_users", __name__, url_prefix="/api/admin/users", description="User management (admins only)"
)
users_blp = Blueprint(
    "users", __name__, url_prefix="/api/users", description="The people summary (admins); one's own profile"
)

RESET_ACCEPTED = "If an account uses this address, we have sent it a link to choose a new password."


def _with_session_cookies(session: accounts_service.SignIn, now: datetime) -> accounts_service.SignIn:
    @after_this_request
    def set_cookie(response: Response) -> Response:
        tokens.set_refresh_cookie(response, session.refresh_token, expires_at=session.refresh_expires_at, now=now)
        set_access_cookies(response, session.access_token, max_age=session.expires_in)
        return response

    return session


def _now() -> datetime:
    return datetime.now(UTC)


def _cookie_session(cookies: dict[str, Any]) -> str | None:
    """The refresh token of a cookie-authenticated request whose `Origin`, if any, is ours. :raise 403:"""
    tokens.ensure_trusted_origin(request.headers.get("Origin"))
    secure = tokens.refresh_cookie_name() == tokens.SECURE_REFRESH_COOKIE
    return cookies["secure_refresh_token"] if secure else cookies["refresh_token"]


def _client() -> str:
    """Who is refreshing, for the grace window: the same address and browser (two tabs)."""
    return f"{get_remote_address()} {request.user_agent.string}"


@blp.route("/register", methods=["POST"])
@limiter.limit(setting("ratelimit_register"), key_func=get_remote_address)
@limiter.limit(setting("ratelimit_register"), key_func=email_key)
@blp.arguments(RegisterSchema)
@blp.response(201, UserSchema)
@blp.alt_response(409, schema=ErrorSchema, description="EMAIL_TAKEN")
@blp.alt_response(422, schema=ErrorSchema, description="WEAK_PASSWORD or VALIDATION_ERROR")
@blp.alt_response(429, **RATE_LIMITED)
def register(body: dict[str, Any]) -> User:
    """Create a customer account."""
    return accounts_service.register_user(**body, now=_now())


@blp.route("/signup", methods=["POST"])
@limiter.limit(setting("ratelimit_register"), key_func=get_remote_address)
@limiter.limit(setting("ratelimit_register"), key_func=email_key)
@blp.arguments(AccountSignupSchema)
@blp.response(201, SessionSchema)
@blp.alt_response(409, schema=ErrorSchema, description="EMAIL_TAKEN")
@blp.alt_response(422, schema=ErrorSchema, description="WEAK_PASSWORD or VALIDATION_ERROR")
@blp.alt_response(429, **RATE_LIMITED)
def signup(body: dict[str, Any]) -> accounts_service.SignIn:
    """Create a customer account and sign in (the app frontend's sign-up)."""
    now = _now()
    return _with_session_cookies(accounts_service.sign_up(**body, now=now), now)


@blp.route("/login", methods=["POST"])
@limiter.limit(setting("ratelimit_login_ip"), key_func=get_remote_address)
@limiter.limit(setting("ratelimit_login"), key_func=email_key, deduct_when=failed)
@blp.arguments(LoginSchema)
@blp.response(200, SessionSchema)
@blp.alt_response(401, schema=ErrorSchema, description="INVALID_CREDENTIALS (also for deactivated accounts)")
@blp.alt_response(429, **RATE_LIMITED)
def login(credentials: dict[str, Any]) -> accounts_service.SignIn:
    """Sign in: an access token in the body, the refresh token in an HttpOnly cookie."""
    now = _now()
    session = accounts_service.sign_in(**credentials, now=now)
    after_this_request(forget_failures)  # a success ends the back-off of this email
    return _with_session_cookies(session, now)


@blp.route("/refresh", methods=["POST"])
@limiter.limit(setting("ratelimit_refresh"), key_func=get_remote_address)
@blp.arguments(RefreshCookieSchema, location="cookies")
@blp.response(200, SessionSchema)
@blp.alt_response(
    401, schema=ErrorSchema, description="UNAUTHORIZED, TOKEN_INVALID, TOKEN_EXPIRED, TOKEN_REVOKED or TOKEN_REUSED"
)
@blp.alt_response(403, schema=ErrorSchema, description="ORIGIN_NOT_ALLOWED")
@blp.alt_response(429, **RATE_LIMITED)
def refresh(cookies: dict[str, Any]) -> accounts_service.SignIn:
    """Trade the refresh cookie for a new access token; the cookie is rotated."""
    now = _now()
    token = _cookie_session(cookies)
    return _with_session_cookies(accounts_service.refresh_session(refresh_token=token, client=_client(), now=now), now)


@blp.route("/logout", methods=["POST"])
@blp.arguments(RefreshCookieSchema, location="cookies")
@blp.response(204)
@blp.alt_response(403, schema=ErrorSchema, description="ORIGIN_NOT_ALLOWED")
def logout(cookies: dict[str, Any]) -> None:
    """Sign out: end this session (its refresh and access tokens) and clear the cookie."""
    token = _cookie_session(cookies)
    after_this_request(_clear_cookie)
    accounts_service.sign_out(refresh_token=token, now=_now())


def _clear_cookie(response: Response) -> Response:
    tokens.clear_refresh_cookie(response)
    unset_access_cookies(response)
    return response


@blp.route("/me", methods=["GET"])
@auth_required()
@blp.response(200, UserSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
def me() -> User | None:
    """Show the signed-in user."""
    return current_account()


@blp.route("/password-reset", methods=["POST"])
@limiter.limit(setting("ratelimit_password_reset_ip"), key_func=get_remote_address)
@limiter.limit(setting("ratelimit_password_reset"), key_func=email_key)
@blp.arguments(PasswordResetRequestSchema)
@blp.response(202, AcceptedSchema)
@blp.alt_response(422, schema=ErrorSchema, description="VALIDATION_ERROR (not an email address)")
@blp.alt_response(429, **RATE_LIMITED)
def request_password_reset(body: dict[str, Any]) -> dict[str, str]:
    """Email a password-reset link; the same answer whether or not the address has an account."""
    recovery.request_password_reset(email=body["email"], now=_now())
    return {"message": RESET_ACCEPTED}


@blp.route("/password-reset/confirm", methods=["POST"])
@limiter.limit(setting("ratelimit_password_reset_ip"), key_func=get_remote_address)
@blp.arguments(PasswordResetConfirmSchema)
@blp.response(204)
@blp.alt_response(400, schema=ErrorSchema, description="RESET_TOKEN_INVALID")
@blp.alt_response(410, schema=ErrorSchema, description="RESET_TOKEN_USED or RESET_TOKEN_EXPIRED")
@blp.alt_response(422, schema=ErrorSchema, description="WEAK_PASSWORD or VALIDATION_ERROR")
@blp.alt_response(429, **RATE_LIMITED)
def confirm_password_reset(body: dict[str, Any]) -> None:
    """Choose a new password with the emailed token; every session of the account ends."""
    recovery.confirm_password_reset(token=body["token"], password=body["password"], now=_now())


@admin_blp.route("")
class Users(MethodView):
    @auth_required(Role.ADMIN)
    @admin_blp.arguments(UserListQuerySchema, location="query")
    @admin_blp.response(200, UserPageSchema)
    @admin_blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
    @admin_blp.alt_response(403, schema=ErrorSchema, description="Not an admin")
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """List users, filtered by role and email substring."""
        page = accounts_service.list_users(**query)
        return {
            "items": page.items,
            "pagination": pagination(page=query["page"], page_size=query["page_size"], total=page.total),
        }

    @auth_required(Role.ADMIN)
    @admin_blp.arguments(UserCreateSchema)
    @admin_blp.response(201, UserSchema)
    @admin_blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
    @admin_blp.alt_response(403, schema=ErrorSchema, description="Not an admin")
    @admin_blp.alt_response(409, schema=ErrorSchema, description="EMAIL_TAKEN")
    @admin_blp.alt_response(422, schema=ErrorSchema, description="WEAK_PASSWORD or VALIDATION_ERROR (restaurantId)")
    def post(self, body: dict[str, Any]) -> User:
        """Create a customer, staff member or admin (without a password: an invitation email)."""
        return accounts_service.create_user(actor=current_account(), now=_now(), **body)


@admin_blp.route("/<uuid:user_id>")
class UserById(MethodView):
    @auth_required(Role.ADMIN)
    @admin_blp.response(200, UserSchema)
    @admin_blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
    @admin_blp.alt_response(403, schema=ErrorSchema, description="Not an admin")
    @admin_blp.alt_response(404, schema=ErrorSchema, description="USER_NOT_FOUND")
    def get(self, user_id: Any) -> User:
        """Show one user."""
        return accounts_service.get_user(user_id=user_id)

    @auth_required(Role.ADMIN)
    @admin_blp.arguments(UserUpdateSchema)
    @admin_blp.response(200, UserSchema)
    @admin_blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
    @admin_blp.alt_response(403, schema=ErrorSchema, description="Not an admin, or an admin demoting themselves")
    @admin_blp.alt_response(404, schema=ErrorSchema, description="USER_NOT_FOUND")
    @admin_blp.alt_response(422, schema=ErrorSchema, description="VALIDATION_ERROR (restaurantId)")
    def patch(self, changes: dict[str, Any], user_id: Any) -> User:
        """Change a user's name, phone, role, restaurant or active flag (false: deactivate)."""
        return accounts_service.update_user(user_id=user_id, actor=current_account(), now=_now(), **changes)


@users_blp.route("/summary", methods=["GET"])
@auth_required(Role.ADMIN)
@users_blp.response(200, UsersSummarySchema)
@users_blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@users_blp.alt_response(403, schema=ErrorSchema, description="Not an admin")
def users_summary() -> accounts_service.UsersSummary:
    """Count users, in all and per role."""
    return accounts_service.users_summary()


@users_blp.route("/me", methods=["PATCH"])
@auth_required()
@users_blp.arguments(ProfileUpdateSchema, required=False)  # no body: nothing to change
@users_blp.response(200, UserSchema)
@users_blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@users_blp.alt_response(403, schema=ErrorSchema, description="ORIGIN_NOT_ALLOWED")
@users_blp.alt_response(422, schema=ErrorSchema, description="VALIDATION_ERROR")
def update_me(changes: dict[str, Any] | None) -> User:
    """Change your own name and phone."""
    return accounts_service.update_own_profile(user=current_account(), now=_now(), **(changes or {}))


@users_blp.route("/me/password", methods=["POST"])
@auth_required()
@limiter.limit(setting("ratelimit_login"), key_func=user_key, deduct_when=lambda r: r.status_code == 403)
@users_blp.arguments(PasswordChangeSchema)
@users_blp.response(204)
@users_blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@users_blp.alt_response(403, schema=ErrorSchema, description="WRONG_PASSWORD or ORIGIN_NOT_ALLOWED")
@users_blp.alt_response(422, schema=ErrorSchema, description="WEAK_PASSWORD or VALIDATION_ERROR")
@users_blp.alt_response(429, **RATE_LIMITED)
def change_my_password(body: dict[str, Any]) -> None:
    """Change your password; every other session of yours ends (this one stays signed in)."""
    accounts_service.change_password(
        user=current_account(),
        current_password=body["current_password"],
        new_password=body["new_password"],
        session_id=_session_id(),
        now=_now(),
    )


def _session_id() -> uuid.UUID | None:
    """The refresh-token row the caller's access token was issued with (its `jti`)."""
    try:
        return uuid.UUID(str(get_jwt().get("jti")))
    except ValueError:
        return None
