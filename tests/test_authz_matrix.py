"""Authorisation matrix: every route of the app, tried by every kind of caller, must answer as listed here.

HOW TO ADD YOUR ROUTE (one line in MATRIX, plus a request builder if it needs one)

1. Find the rule exactly as Flask spells it: `flask --app wsgi routes`, or run this file and copy
   the line it prints for your route (`test_every_route_has_a_matrix_entry` fails, on purpose,
   for every route without an entry; it also fails for entries whose route no longer exists).
2. Add `(METHOD, rule): (access, builder)` under your domain's heading in MATRIX. `access` is a
   preset from tests/support/authz.py; each takes the success status `ok` (an int, or a set such
   as {200, 409} when the outcome legitimately varies) and per-persona overrides:
       public(ok)        anyone, token or not (tokens are not looked at)
       optional_auth(ok) anyone; a token is used when sent, so an expired/tampered one gets 401
       signed_in(ok)     any signed-in user; no/expired/tampered token 401
       staff_only(ok)    staff of ctx.restaurant and admins; customers 403
       admin_only(ok)    admins; customers and staff 403
       owner_or_404(ok)  the resource is ctx.customer's (at ctx.restaurant): owner, staff, admin `ok`;
                         the other customer 404 (never 403: ids must not be probeable)
   e.g. `owner_or_404(staff=404)` for a customer's private thing staff may not see, or
   `signed_in(201, staff=403)`.
3. `builder` is None when the rule has no path parameters and needs no body; otherwise the name
   of a function decorated with `@builder` below: `(ctx, who) -> Req(path=, json=, query=,
   headers=, cookies=)`. It is called once per persona, so create a fresh resource there when
   the call changes state (a cancel, a delete). `ctx` has ctx.customer, ctx.other_customer,
   ctx.staff, ctx.admin, ctx.restaurant (Café Fausse, where ctx.staff works), ctx.make_user,
   ctx.now, ctx.unique(prefix) and ctx.once(key, factory) for setup shared by all personas.
   Rows you create yourself: call ctx.keep() afterwards (an error response would roll them back).
4. Run `.venv/bin/pytest tests/test_authz_matrix.py -q`.

Personas, in order: anonymous (no token), expired (the customer's token, expired), tampered (the
customer's token with its payload changed to claim the admin), customer, other (customer),
staff, admin. A refused token must also carry its code: UNAUTHORIZED, TOKEN_EXPIRED, TOKEN_INVALID.
Skipped: `static` (the app's and each blueprint's), the Swagger UI under /docs, /openapi.json.
"""

from __future__ import annotations

import functools
import itertools
from typing import Any

import pytest
from argon2 import PasswordHasher

from api.accounts import service as accounts_service
from api.accounts.models import Role, User
from api.extensions import db
from api.restaurants.demo import ensure_cafe_fausse
from tests.support.authz import (
    PERSONAS,
    TOKEN_ERROR_CODES,
    Access,
    Builder,
    Ctx,
    Req,
    admin_only,
    matches,
    optional_auth,
    owner_or_404,
    persona_headers,
    public,
    signed_in,
    staff_only,
)

# fmt: off
MATRIX: dict[tuple[str, str], tuple[Access, str | None]] = {
    # --- health ---------------------------------------------------------------------------------
    ("GET",   "/health"):                                  (public(),          None),
    ("GET",   "/metrics"):                                 (public(),          None),  # Prometheus: block at the proxy
    ("GET",   "/health/ready"):                            (public(),          None),
    # --- the Café Fausse website's pages (HTML; api/web/routes.py) ----------------------------
    ("GET",   "/"):                                        (public(),          None),
    # --- the staff console's page shells (HTML; their data comes from the API, which checks) --
    ("GET",   "/staff/"):                                  (public(),          None),
    ("GET",   "/staff/login"):                             (public(),          None),
    ("GET",   "/staff/approvals"):                         (public(),          None),
    ("GET",   "/staff/new"):                               (public(),          None),
    ("GET",   "/staff/floor"):                             (public(),          None),
    ("GET",   "/staff/calendar"):                          (public(),          None),
    ("GET",   "/staff/dashboard"):                         (public(),          None),
    ("GET",   "/reset-password"):                          (public(),          None),  # the reset email's page
    ("GET",   "/menu"):                                    (public(),          None),
    ("GET",   "/reservations"):                            (public(),          None),
    ("GET",   "/about"):                                   (public(),          None),
    ("GET",   "/gallery"):                                 (public(),          None),
    ("GET",   "/newsletter/unsubscribe"):                  (public(),          None),
    # --- accounts: sign-up, sign-in, sessions -----------------------------------------------------
    ("POST",  "/api/auth/register"):                       (public(201),       "new_account"),
    ("POST",  "/api/auth/login"):                          (public(),          "customer_credentials"),
    ("POST",  "/api/auth/refresh"):                        (public(),          "fresh_refresh_cookie"),
    ("POST",  "/api/auth/logout"):                         (public(204),       "fresh_refresh_cookie"),
    ("GET",   "/api/auth/me"):                             (signed_in(),       None),
    ("POST",  "/api/auth/password-reset"):                 (public(202),       "reset_request"),
    ("POST",  "/api/auth/password-reset/confirm"):         (public(204),       "fresh_reset_token"),
    # --- accounts: user management ----------------------------------------------------------------
    ("GET",   "/api/admin/users"):                         (admin_only(),      None),
    ("POST",  "/api/admin/users"):                         (admin_only(201),   "new_user_by_admin"),
    ("GET",   "/api/admin/users/<uuid:user_id>"):          (admin_only(),      "customer_by_admin"),
    ("PATCH", "/api/admin/users/<uuid:user_id>"):          (admin_only(),      "patch_fresh_customer"),
    ("GET",   "/api/users/summary"):                       (admin_only(),      None),
    # --- accounts: one's own profile and password (every persona acts on their own account) -----
    ("PATCH", "/api/users/me"):                            (signed_in(),       "own_profile"),
    ("POST",  "/api/users/me/password"):                   (signed_in(204),    "own_password"),
    # --- the app frontend's sign-up, profile and preferences (issue 14; api/accounts, api/discovery) --
    ("POST",  "/api/auth/signup"):                         (public(201),          "new_signup"),
    ("GET",   "/api/auth/profile/<user_id>"):              (signed_in(other=403, staff=403), "customer_profile"),
    ("PATCH", "/api/auth/preferences"):                    (signed_in(other=403, staff=403), "patch_app_preferences"),
    # --- booking: the app frontend's flow (seed 000; api/booking/app_routes.py) --------------------
    ("POST",   "/api/reservations/availability"):              (public(),                  "app_availability"),
    ("POST",   "/api/reservations/hold"):                      (signed_in(201, other=403), "app_hold"),
    ("GET",    "/api/reservations/hold/active"):               (signed_in(other=403),      "app_active_hold"),
    ("POST",   "/api/reservations/confirm"):                   (signed_in(201, other=403), "app_confirm"),
    ("GET",    "/api/reservations/user/<user_id>"):            (signed_in(other=403),      "app_user_reservations"),
    ("DELETE", "/api/reservations/<uuid:reservation_id>"):     (owner_or_404(),            "app_cancel"),
    ("PATCH",  "/api/reservations/<uuid:reservation_id>"):     (owner_or_404(),            "app_change"),
    ("GET",    "/api/reservations/<uuid:reservation_id>/refund-quote"): (owner_or_404(),   "app_refund_quote"),
    # --- waitlist (api/booking/waitlist_routes.py) --------------------------------------------------
    ("POST",   "/api/restaurants/<restaurant_id>/waitlist"): (signed_in(201),         "waitlist_join"),
    ("GET",    "/api/restaurants/<restaurant_id>/waitlist"): (staff_only(),           "waitlist_day"),
    ("GET",    "/api/waitlist"):                             (signed_in(),            None),
    ("DELETE", "/api/waitlist/<uuid:entry_id>"):  (owner_or_404(204, staff=404, admin=404), "waitlist_leave"),
    # --- trades (seed 002; api/trades/routes.py): only the two guests in a trade see it --------------
    ("POST",   "/api/trades"):                  (signed_in(201, other=404, staff=404, admin=404), "trade_proposal"),
    ("GET",    "/api/trades"):                  (signed_in(),                        None),
    ("GET",    "/api/trades/<uuid:trade_id>"):  (owner_or_404(staff=404),            "trade_read"),
    ("POST",   "/api/trades/<uuid:trade_id>"):  (owner_or_404(staff=404, admin=403), "trade_withdrawal"),
    # --- booking: the Café Fausse website (seed 003; api/booking/routes.py) -------------------------
    ("POST",   "/api/reservations"):                           (public(201),               "website_booking"),
    ("GET",    "/api/reservations"):                           (staff_only(),              "website_day_list"),
    ("GET",    "/api/reservations/availability"):              (public(),                  "website_availability"),
    ("GET",    "/api/reservations/<uuid:reservation_id>"):     (owner_or_404(),            "own_reservation"),
    # --- booking: guest manage links; the token in the path is the credential, never a login ---------
    ("GET",    "/api/manage/<token>"):                         (public(),                  "manage_link"),
    ("DELETE", "/api/manage/<token>"):                         (public(),                  "fresh_manage_link"),
    ("PATCH",  "/api/manage/<token>"):                         (public(),                  "manage_link_change"),
    ("GET",    "/manage/<token>"):                             (public(),                  "manage_page"),  # HTML
    # --- booking: history and the staff's status actions (api/booking/staff_routes.py) ------------------
    ("GET",    "/api/reservations/<uuid:reservation_id>/history"):  (owner_or_404(), "own_reservation_history"),
    ("POST",   "/api/reservations/<uuid:reservation_id>/seat"):     (staff_only(),   "seat_fresh_reservation"),
    ("POST",   "/api/reservations/<uuid:reservation_id>/complete"): (staff_only(),   "complete_fresh_seated"),
    ("POST",   "/api/reservations/<uuid:reservation_id>/no-show"):  (staff_only(),   "no_show_fresh_reservation"),
    ("POST",   "/api/reservations/<uuid:reservation_id>/cancel"):   (staff_only(),   "staff_cancel_fresh_reservation"),
    ("POST",   "/api/reservations/<uuid:reservation_id>/extend"):   (staff_only(),   "extend_fresh_seated"),
    # --- booking: staff tools (primetime approvals, phone/walk-in bookings, table blocks;
    # api/booking/staff_booking_routes.py) ---------------------------------------------------------
    ("POST",   "/api/reservations/<uuid:reservation_id>/approve"):  (staff_only(),      "approve_fresh_request"),
    ("POST",   "/api/reservations/approvals"):                      (staff_only(),      "decide_fresh_requests"),
    ("POST",   "/api/restaurants/<restaurant_id>/reservations"):    (staff_only(201),   "new_staff_booking"),
    ("GET",    "/api/restaurants/<restaurant_id>/tables/<table_id>/blocks"):  (staff_only(),    "table_blocks"),
    ("POST",   "/api/restaurants/<restaurant_id>/tables/<table_id>/blocks"):  (staff_only(201), "new_table_block"),
    ("DELETE", "/api/restaurants/<restaurant_id>/tables/<table_id>/blocks/<block_id>"): (staff_only(204),
                                                                                         "delete_fresh_block"),
    # --- newsletter (seed 003; api/newsletter/routes.py) -------------------------------------------
    ("POST",   "/api/newsletter"):                             (public(),                  "newsletter_signup"),
    ("POST",   "/api/newsletter/unsubscribe"):                 (public(),                  "newsletter_token"),
    # --- payments: the gateway's webhook, authenticated by its Stripe-Signature, never a token -----
    ("POST",   "/api/payments/webhook"):                   (public(),                  "signed_webhook_event"),
    # --- restaurants: the catalogue, tables, hours, closures (api/restaurants/routes.py) -------------
    ("GET",    "/api/restaurants"):                                         (public(),          None),
    ("POST",   "/api/restaurants"):                                         (admin_only(201),   "new_restaurant"),
    ("GET",    "/api/restaurants/<restaurant_id:restaurant_id>"):           (public(),          "restaurant_path"),
    ("PATCH",  "/api/restaurants/<restaurant_id:restaurant_id>"):           (staff_only(),      "patch_restaurant"),
    ("GET",    "/api/restaurants/<restaurant_id>/tables"):                  (staff_only(),      "restaurant_tables"),
    ("POST",   "/api/restaurants/<restaurant_id>/tables"):                  (staff_only(201),   "new_table"),
    ("PATCH",  "/api/restaurants/<restaurant_id>/tables/<table_id>"):       (staff_only(),      "patch_table"),
    ("DELETE", "/api/restaurants/<restaurant_id>/tables/<table_id>"):       (staff_only(),      "delete_fresh_table"),
    ("GET",    "/api/restaurants/<restaurant_id>/hours"):                   (staff_only(),      "restaurant_hours"),
    ("PUT",    "/api/restaurants/<restaurant_id>/hours"):                   (staff_only(),      "replace_hours"),
    ("GET",    "/api/restaurants/<restaurant_id>/closures"):                (staff_only(),      "restaurant_closures"),
    ("POST",   "/api/restaurants/<restaurant_id>/closures"):                (staff_only(201),   "new_closure"),
    ("DELETE", "/api/restaurants/<restaurant_id>/closures/<service_date>"): (staff_only(204),   "delete_fresh_closure"),
    # --- restaurants: the settings resource and the floor plan (api/restaurants/settings.py, floor_plan.py) --
    ("GET", "/api/restaurants/<restaurant_id>/settings"): (staff_only(), "restaurant_settings"),
    ("PUT", "/api/restaurants/<restaurant_id>/settings"): (staff_only(), "put_restaurant_settings"),
    ("GET", "/api/restaurants/<restaurant_id>/settings/changes"): (staff_only(), "restaurant_settings_changes"),
    ("PUT", "/api/restaurants/<restaurant_id>/floor-plan"): (staff_only(), "put_floor_plan"),
    # --- insight: calendar, dashboards, statistics, live floor plan (api/insight/routes.py) -----------
    # The calendar and the floor plan are public; what they show of reservations depends on the caller.
    ("GET", "/api/restaurants/<restaurant_id>/calendar"): (optional_auth(), "restaurant_calendar"),
    ("GET", "/api/restaurants/<restaurant_id>/floor-plan"): (optional_auth(), "live_floor_plan"),
    ("GET", "/api/dashboard"): (signed_in(), None),
    ("GET", "/api/restaurants/<restaurant_id>/dashboard"): (staff_only(), "restaurant_dashboard"),
    ("GET", "/api/restaurants/<restaurant_id>/statistics"): (staff_only(), "restaurant_statistics"),
    ("GET", "/api/statistics"): (admin_only(), "statistics_range"),
    # --- guests: profiles per restaurant (api/guests/routes.py) ------------------------------------
    ("GET", "/api/restaurants/<restaurant_id>/guests"): (staff_only(), "restaurant_guests"),
    ("GET", "/api/restaurants/<restaurant_id>/guests/<guest_id>"): (staff_only(), "customer_guest"),
    ("PATCH", "/api/restaurants/<restaurant_id>/guests/<guest_id>"): (staff_only(), "patch_customer_guest"),
    # --- insight: booking reports (api/insight/routes.py); JSON here, the CSV has its own tests -----
    ("GET",    "/api/restaurants/<uuid:restaurant_id>/reports/bookings"):   (staff_only(),      "booking_report"),
    ("GET",    "/api/restaurants/<restaurant_id>/schedule"):                (public(),          "restaurant_schedule"),
    ("GET",    "/api/restaurants/<restaurant_id>/primetime"):               (public(),          "restaurant_primetime"),
    ("POST",   "/api/restaurants/<restaurant_id>/primetime"):               (staff_only(201),   "new_primetime_window"),
    ("GET",    "/api/restaurants/<restaurant_id>/primetime/<int:window_id>"):    (public(),     "primetime_window"),
    ("PATCH",  "/api/restaurants/<restaurant_id>/primetime/<int:window_id>"):    (staff_only(),
                                                                                  "patch_primetime_window"),
    ("DELETE", "/api/restaurants/<restaurant_id>/primetime/<int:window_id>"):    (staff_only(204),
                                                                                  "delete_fresh_primetime_window"),
    # --- discovery: feed, swipes, preferences (api/discovery/routes.py); the customer's and admins' only:
    # staff of the restaurant the swipe names are refused too (403 USER_MISMATCH) --------------------
    ("GET",    "/api/restaurants/discovery"):             (signed_in(other=403, staff=403), "customer_feed"),
    ("POST",   "/api/restaurants/<restaurant_id>/swipe"): (signed_in(other=403, staff=403), "swipe_for_customer"),
    ("GET",    "/api/users/<user_id>/preferences"):       (signed_in(other=403, staff=403), "customer_preferences"),
    ("PUT",    "/api/users/<user_id>/preferences"):       (signed_in(other=403, staff=403), "put_customer_preferences"),
    # --- the app frontend's favourites (= likes) and stats (issue 14); the customer's and admins' only --
    ("POST",   "/api/favorites"):                         (signed_in(201, other=403, staff=403), "new_favorite"),
    ("GET",    "/api/favorites/<user_id>"):               (signed_in(other=403, staff=403), "customer_favorites"),
    ("GET",    "/api/favorites/check"):                   (signed_in(other=403, staff=403), "favorite_query"),
    ("DELETE", "/api/favorites"):                         (signed_in(other=403, staff=403), "favorite_query"),
    ("GET",    "/api/stats/<user_id>"):                   (signed_in(other=403, staff=403), "customer_stats"),
}
# fmt: on


# ----------------------------------------------------------------------------------------------
# Request builders: `@builder def name(ctx, who) -> Req`, referenced by name in MATRIX.
# ----------------------------------------------------------------------------------------------

BUILDERS: dict[str, Builder] = {}
PASSWORD = "correct horse battery staple"  # every persona's password


def builder(fn: Builder) -> Builder:
    BUILDERS[fn.__name__] = fn
    return fn


# --- accounts ---


@builder
def new_account(ctx: Ctx, who: str) -> Req:
    return Req(json={"email": f"{ctx.unique('new')}@example.com", "password": "a long enough passphrase"})


@builder
def new_signup(ctx: Ctx, who: str) -> Req:
    email = f"{ctx.unique('signup')}@example.com"
    return Req(json={"email": email, "password": "a long enough passphrase", "firstName": "Ada", "lastName": "L"})


@builder
def customer_profile(ctx: Ctx, who: str) -> Req:
    return Req(path=f"/api/auth/profile/{ctx.customer.id}")


@builder
def patch_app_preferences(ctx: Ctx, who: str) -> Req:
    return Req(json={"userId": str(ctx.customer.id), "preferences": {"cuisineTypes": ["italian"]}})


@builder
def customer_credentials(ctx: Ctx, who: str) -> Req:
    return Req(json={"email": ctx.customer.email, "password": PASSWORD})


@builder
def fresh_refresh_cookie(ctx: Ctx, who: str) -> Req:
    signed_in_ = accounts_service.sign_in(email=ctx.customer.email, password=PASSWORD, now=ctx.now)
    return Req(cookies={"refresh_token": signed_in_.refresh_token})


@builder
def patch_fresh_customer(ctx: Ctx, who: str) -> Req:
    target = ctx.make_user(Role.CUSTOMER)
    ctx.keep()
    return Req(path=f"/api/admin/users/{target.id}", json={"isActive": False})


@builder
def reset_request(ctx: Ctx, who: str) -> Req:
    return Req(json={"email": ctx.customer.email})


@builder
def fresh_reset_token(ctx: Ctx, who: str) -> Req:
    """A valid reset link of a fresh account (confirming ends that account's sessions, not a persona's)."""
    import uuid
    from datetime import timedelta

    from api.accounts import recovery
    from api.accounts.models import PasswordResetToken

    owner = ctx.make_user(Role.CUSTOMER)
    request_id = uuid.uuid4()
    token = recovery.reset_token_for(request_id)
    db.session.add(
        PasswordResetToken(
            id=request_id,
            user_id=owner.id,
            token_hash=recovery.hash_reset_token(token),
            created_at=ctx.now,
            expires_at=ctx.now + timedelta(days=1),
        )
    )
    ctx.keep()
    return Req(json={"token": token, "password": "a brand new passphrase"})


@builder
def new_user_by_admin(ctx: Ctx, who: str) -> Req:
    return Req(
        json={
            "email": f"{ctx.unique('created')}@example.com",
            "role": "staff",
            "restaurantId": str(ctx.restaurant.id),
            "password": "a long enough passphrase",
        }
    )


@builder
def customer_by_admin(ctx: Ctx, who: str) -> Req:
    return Req(path=f"/api/admin/users/{ctx.customer.id}")


@builder
def own_profile(ctx: Ctx, who: str) -> Req:
    return Req(json={"name": f"Renamed by {who}", "phone": "555 0100"})


@builder
def own_password(ctx: Ctx, who: str) -> Req:
    return Req(json={"currentPassword": PASSWORD, "newPassword": "a brand new passphrase"})


# --- booking: the app frontend's flow ---


def _app_day(ctx: Ctx) -> str:
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    return (ctx.now.astimezone(ZoneInfo(ctx.restaurant.timezone)).date() + timedelta(days=7)).isoformat()


def _app_hold(ctx: Ctx, guest: User, wall: str = "19:00") -> Any:
    from datetime import date, time

    from api.booking import holds

    return holds.create_hold(
        actor=guest,
        user_id=None,
        restaurant_id=ctx.restaurant.id,
        service_date=date.fromisoformat(_app_day(ctx)),
        wall_time=time.fromisoformat(wall),
        party_size=2,
        now=ctx.now,
    ).hold


def _app_reservation(ctx: Ctx, wall: str = "19:00", guest: User | None = None) -> Any:
    """A paid app reservation of `guest` (ctx.customer) at ctx.restaurant (hold + confirm through the services)."""
    from api.booking import checkout

    guest = guest or ctx.customer
    hold_id = _app_hold(ctx, guest, wall).id
    reservation = checkout.confirm_reservation(
        actor=guest, hold_id=hold_id, user_id=None, payment_method="pm_card_visa", special_requests="", now=ctx.now
    ).reservation
    ctx.keep()
    return reservation


@builder
def app_availability(ctx: Ctx, who: str) -> Req:
    return Req(json={"restaurantId": str(ctx.restaurant.id), "date": _app_day(ctx), "partySize": 2})


@builder
def app_hold(ctx: Ctx, who: str) -> Req:
    # The customer (and the refused tokens) hold for the customer; the other customer tries to hold
    # for them too (403 USER_MISMATCH); staff and admins hold for a fresh guest.
    guest = ctx.make_user(Role.CUSTOMER) if who in ("staff", "admin") else ctx.customer
    ctx.keep()
    return Req(
        json={
            "userId": str(guest.id),
            "restaurantId": str(ctx.restaurant.id),
            "date": _app_day(ctx),
            "time": "19:00",
            "partySize": 2,
        }
    )


@builder
def app_active_hold(ctx: Ctx, who: str) -> Req:
    ctx.once("customer_hold", lambda: _app_hold(ctx, ctx.customer))
    return Req(query={"userId": str(ctx.customer.id)})


@builder
def app_confirm(ctx: Ctx, who: str) -> Req:
    # One hold of the customer: the first successful caller confirms it, the later ones get the
    # same reservation back (confirming is idempotent per hold).
    hold_id = ctx.once("customer_hold", lambda: _app_hold(ctx, ctx.customer).id)
    return Req(
        json={
            "holdId": str(hold_id),
            "userId": str(ctx.customer.id),
            "paymentMethod": {"type": "credit-card", "token": "pm_card_visa"},
        }
    )


@builder
def app_user_reservations(ctx: Ctx, who: str) -> Req:
    return Req(path=f"/api/reservations/user/{ctx.customer.id}", query={"filter": "upcoming"})


@builder
def app_cancel(ctx: Ctx, who: str) -> Req:
    reservation = _app_reservation(ctx)  # a fresh one per caller: cancelling changes it
    return Req(path=f"/api/reservations/{reservation.id}", json={})


@builder
def app_change(ctx: Ctx, who: str) -> Req:
    reservation = ctx.once("customer_reservation", lambda: _app_reservation(ctx))
    return Req(path=f"/api/reservations/{reservation.id}", json={"specialRequests": f"asked by {who}"})


@builder
def app_refund_quote(ctx: Ctx, who: str) -> Req:
    reservation = ctx.once("customer_reservation", lambda: _app_reservation(ctx))
    return Req(path=f"/api/reservations/{reservation.id}/refund-quote")


# --- waitlist ---


@builder
def waitlist_join(ctx: Ctx, who: str) -> Req:
    body = {"date": _app_day(ctx), "startTime": "19:00", "endTime": "21:00", "partySize": 2}
    return Req(path=f"/api/restaurants/{ctx.restaurant.id}/waitlist", json=body)


@builder
def waitlist_day(ctx: Ctx, who: str) -> Req:
    return Req(path=f"/api/restaurants/{ctx.restaurant.id}/waitlist", query={"date": _app_day(ctx)})


@builder
def waitlist_leave(ctx: Ctx, who: str) -> Req:
    from datetime import date, time

    from api.booking import waitlist

    def customers_entry() -> Any:
        entry = waitlist.join(
            actor=ctx.customer,
            restaurant_id=ctx.restaurant.id,
            service_date=date.fromisoformat(_app_day(ctx)),
            window_start=time(12, 0),
            window_end=time(13, 0),
            party_size=2,
            now=ctx.now,
        )
        ctx.keep()
        return entry

    return Req(path=f"/api/waitlist/{ctx.once('waitlist_entry', customers_entry).id}")


# --- trades ---


def _trade_pair(ctx: Ctx) -> tuple[Any, Any]:
    """A fresh booking of ctx.customer and one of a new guest, the same evening."""
    return _app_reservation(ctx, "19:00"), _app_reservation(ctx, "21:00", guest=ctx.make_user(Role.CUSTOMER))


def _trade(ctx: Ctx) -> Any:
    from api.trades import service as trades_service

    mine, theirs = _trade_pair(ctx)
    trade = trades_service.propose(
        actor=ctx.customer, requester_reservation_id=mine.id, target_reservation_id=theirs.id, message="", now=ctx.now
    )
    ctx.keep()
    return trade


@builder
def trade_proposal(ctx: Ctx, who: str) -> Req:
    mine, theirs = _trade_pair(ctx)  # a fresh pair per caller: proposing the same pair twice is TRADE_EXISTS
    return Req(json={"requesterReservationId": str(mine.id), "targetReservationId": str(theirs.id)})


@builder
def trade_read(ctx: Ctx, who: str) -> Req:
    return Req(path=f"/api/trades/{ctx.once('trade', lambda: _trade(ctx)).id}")


@builder
def trade_withdrawal(ctx: Ctx, who: str) -> Req:
    return Req(path=f"/api/trades/{_trade(ctx).id}", json={"action": "withdraw"})


# --- booking: the Café Fausse website, and its newsletter ---


def _website_time(ctx: Ctx, wall: str = "19:00") -> str:
    """A local date and time at ctx.restaurant a week ahead (no offset: the restaurant's wall clock)."""
    return f"{_app_day(ctx)}T{wall}:00"


@builder
def website_booking(ctx: Ctx, who: str) -> Req:
    email = f"{ctx.unique(who)}@example.com"
    return Req(json={"time": _website_time(ctx), "guests": 2, "name": "Matrix", "email": email})


@builder
def website_day_list(ctx: Ctx, who: str) -> Req:
    return Req(query={"date": _app_day(ctx), "page": 1, "page_size": 10})


@builder
def website_availability(ctx: Ctx, who: str) -> Req:
    return Req(query={"time": _website_time(ctx, "19:12")})


@builder
def own_reservation(ctx: Ctx, who: str) -> Req:
    reservation = ctx.once("customer_reservation", lambda: _app_reservation(ctx))
    return Req(path=f"/api/reservations/{reservation.id}")


def _manage_token(ctx: Ctx) -> str:
    """A manage link's token for a fresh reservation of ctx.customer."""
    from api.booking import manage
    from api.db import atomic

    reservation = _app_reservation(ctx)
    with atomic():
        token = manage.mint_token(reservation=reservation, now=ctx.now)
    ctx.keep()
    return token


@builder
def manage_link(ctx: Ctx, who: str) -> Req:
    return Req(path=f"/api/manage/{ctx.once('manage_token', lambda: _manage_token(ctx))}")


@builder
def fresh_manage_link(ctx: Ctx, who: str) -> Req:
    return Req(path=f"/api/manage/{_manage_token(ctx)}")  # a fresh booking per caller: cancelling spends it


@builder
def manage_link_change(ctx: Ctx, who: str) -> Req:
    # A fresh booking per caller: each moves its own to 21:00 (the token, not the caller, is the guest).
    return Req(path=f"/api/manage/{_manage_token(ctx)}", json={"time": "21:00"})


@builder
def manage_page(ctx: Ctx, who: str) -> Req:
    return Req(path=f"/manage/{ctx.once('manage_token', lambda: _manage_token(ctx))}")


def _lifecycle_reservation(ctx: Ctx, status: str) -> Any:
    """A reservation of ctx.customer at ctx.restaurant that started 30 minutes ago, in `status`."""
    from api.booking.models import ReservationStatus
    from tests.booking.test_lifecycle import place

    reservation = place(ctx.restaurant, status=ReservationStatus(status), user_id=ctx.customer.id)
    ctx.keep()
    return reservation


@builder
def own_reservation_history(ctx: Ctx, who: str) -> Req:
    reservation = ctx.once("customer_lifecycle_reservation", lambda: _lifecycle_reservation(ctx, "confirmed"))
    return Req(path=f"/api/reservations/{reservation.id}/history")


@builder
def seat_fresh_reservation(ctx: Ctx, who: str) -> Req:
    return Req(path=f"/api/reservations/{_lifecycle_reservation(ctx, 'confirmed').id}/seat", json={})


@builder
def complete_fresh_seated(ctx: Ctx, who: str) -> Req:
    return Req(path=f"/api/reservations/{_lifecycle_reservation(ctx, 'seated').id}/complete", json={})


@builder
def no_show_fresh_reservation(ctx: Ctx, who: str) -> Req:
    return Req(path=f"/api/reservations/{_lifecycle_reservation(ctx, 'confirmed').id}/no-show", json={})


@builder
def staff_cancel_fresh_reservation(ctx: Ctx, who: str) -> Req:
    reservation = _lifecycle_reservation(ctx, "confirmed")
    return Req(path=f"/api/reservations/{reservation.id}/cancel", json={"reason": "matrix"})


@builder
def extend_fresh_seated(ctx: Ctx, who: str) -> Req:
    return Req(path=f"/api/reservations/{_lifecycle_reservation(ctx, 'seated').id}/extend", json={"minutes": 30})


@builder
def newsletter_signup(ctx: Ctx, who: str) -> Req:
    return Req(json={"email": f"{ctx.unique(who)}@example.com", "name": "Matrix"})


@builder
def newsletter_token(ctx: Ctx, who: str) -> Req:
    from sqlalchemy import select

    from api.newsletter import service as newsletter_service
    from api.newsletter.models import Subscriber

    signup = newsletter_service.subscribe(email=f"{ctx.unique(who)}@example.com", now=ctx.now)
    token = db.session.scalar(select(Subscriber.unsubscribe_token).where(Subscriber.id == signup.subscriber_id))
    return Req(json={"token": token})


# --- payments ---


@builder
def signed_webhook_event(ctx: Ctx, who: str) -> Req:
    """A gateway event signed with the webhook secret (Stripe's scheme); a new event id per caller."""
    from flask import current_app

    from api.payments.gateway import DEV_WEBHOOK_SECRET, sign_webhook_payload

    event = {
        "id": ctx.unique("evt"),
        "object": "event",
        "type": "payment_intent.succeeded",
        "data": {"object": {"id": "pi_matrix", "object": "payment_intent", "metadata": {}}},
    }
    secret = current_app.config["SETTINGS"].stripe_webhook_secret or DEV_WEBHOOK_SECRET
    body = current_app.json.dumps(event)  # what the test client sends for `json=`
    return Req(json=event, headers={"Stripe-Signature": sign_webhook_payload(body, secret)})


# --- restaurants and discovery ---

_matrix_numbers = itertools.count(1)  # table numbers and closure days no other caller uses


def _restaurant_path(ctx: Ctx, suffix: str = "") -> str:
    return f"/api/restaurants/{ctx.restaurant.id}{suffix}"


def _future_day(ctx: Ctx) -> str:
    from datetime import timedelta

    return (ctx.now.date() + timedelta(days=30 + next(_matrix_numbers))).isoformat()


@builder
def restaurant_schedule(ctx: Ctx, who: str) -> Req:
    return Req(path=_restaurant_path(ctx, "/schedule"))


@builder
def new_restaurant(ctx: Ctx, who: str) -> Req:
    return Req(json={"name": ctx.unique("Matrix Bistro"), "cuisine": ["Italian"], "priceRange": "$$"})


@builder
def restaurant_path(ctx: Ctx, who: str) -> Req:
    return Req(path=_restaurant_path(ctx))


@builder
def patch_restaurant(ctx: Ctx, who: str) -> Req:
    return Req(path=_restaurant_path(ctx), json={"description": f"Edited by {who}."})


@builder
def restaurant_tables(ctx: Ctx, who: str) -> Req:
    return Req(path=_restaurant_path(ctx, "/tables"))


@builder
def new_table(ctx: Ctx, who: str) -> Req:
    return Req(path=_restaurant_path(ctx, "/tables"), json={"number": 1000 + next(_matrix_numbers), "maxSeats": 4})


@builder
def patch_table(ctx: Ctx, who: str) -> Req:
    return Req(path=_restaurant_path(ctx, f"/tables/{ctx.restaurant.tables[0].id}"), json={"label": "T1"})


@builder
def delete_fresh_table(ctx: Ctx, who: str) -> Req:
    from api.restaurants.models import DiningTable

    table = DiningTable(restaurant_id=ctx.restaurant.id, number=1000 + next(_matrix_numbers), max_seats=2)
    db.session.add(table)
    ctx.keep()
    return Req(path=_restaurant_path(ctx, f"/tables/{table.id}"))


@builder
def restaurant_hours(ctx: Ctx, who: str) -> Req:
    return Req(path=_restaurant_path(ctx, "/hours"))


@builder
def replace_hours(ctx: Ctx, who: str) -> Req:
    days = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    periods = [{"day": day, "openTime": "17:00", "closeTime": "23:00"} for day in days]
    return Req(path=_restaurant_path(ctx, "/hours"), json={"periods": periods})


@builder
def restaurant_settings(ctx: Ctx, who: str) -> Req:
    return Req(path=_restaurant_path(ctx, "/settings"))


@builder
def put_restaurant_settings(ctx: Ctx, who: str) -> Req:
    from api.restaurants.settings import settings_document

    return Req(path=_restaurant_path(ctx, "/settings"), json=settings_document(ctx.restaurant))


@builder
def restaurant_settings_changes(ctx: Ctx, who: str) -> Req:
    return Req(path=_restaurant_path(ctx, "/settings/changes"))


@builder
def put_floor_plan(ctx: Ctx, who: str) -> Req:
    table = ctx.restaurant.tables[0]
    plan = {
        "areas": [{"name": "Terrace", "kind": "terrace", "width": 40, "height": 20}],
        "tables": [{"tableId": str(table.id), "area": "Terrace", "x": 2, "y": 3, "width": 4, "height": 4}],
    }
    return Req(path=_restaurant_path(ctx, "/floor-plan"), json=plan)


@builder
def live_floor_plan(ctx: Ctx, who: str) -> Req:
    return Req(path=_restaurant_path(ctx, "/floor-plan"), query={"at": ctx.now.isoformat()})


@builder
def restaurant_calendar(ctx: Ctx, who: str) -> Req:
    day = ctx.now.date().isoformat()
    return Req(path=_restaurant_path(ctx, "/calendar"), query={"startDate": day, "endDate": day, "partySize": 2})


@builder
def restaurant_dashboard(ctx: Ctx, who: str) -> Req:
    return Req(path=_restaurant_path(ctx, "/dashboard"))


@builder
def restaurant_statistics(ctx: Ctx, who: str) -> Req:
    day = ctx.now.date().isoformat()
    return Req(path=_restaurant_path(ctx, "/statistics"), query={"startDate": day, "endDate": day})


@builder
def statistics_range(ctx: Ctx, who: str) -> Req:
    day = ctx.now.date().isoformat()
    return Req(query={"startDate": day, "endDate": day})


@builder
def restaurant_guests(ctx: Ctx, who: str) -> Req:
    return Req(path=_restaurant_path(ctx, "/guests"))


def _customer_guest_path(ctx: Ctx) -> str:
    from api.guests.service import guest_id_for

    ctx.once("customer_reservation", lambda: _app_reservation(ctx))
    return _restaurant_path(ctx, f"/guests/{guest_id_for(ctx.customer.email)}")


@builder
def customer_guest(ctx: Ctx, who: str) -> Req:
    return Req(path=_customer_guest_path(ctx))


@builder
def patch_customer_guest(ctx: Ctx, who: str) -> Req:
    return Req(path=_customer_guest_path(ctx), json={"notes": "Window seat", "tags": ["vip"]})


@builder
def restaurant_closures(ctx: Ctx, who: str) -> Req:
    return Req(path=_restaurant_path(ctx, "/closures"))


@builder
def new_closure(ctx: Ctx, who: str) -> Req:
    return Req(path=_restaurant_path(ctx, "/closures"), json={"date": _future_day(ctx), "reason": "Matrix"})


@builder
def delete_fresh_closure(ctx: Ctx, who: str) -> Req:
    from datetime import date

    from api.restaurants.models import SpecialHours

    day = _future_day(ctx)
    db.session.add(SpecialHours(restaurant_id=ctx.restaurant.id, service_date=date.fromisoformat(day), reason="x"))
    ctx.keep()
    return Req(path=_restaurant_path(ctx, f"/closures/{day}"))


def _primetime_window(ctx: Ctx) -> Any:
    from datetime import time

    from api.restaurants.models import PrimetimeWindow

    window = PrimetimeWindow(
        restaurant_id=ctx.restaurant.id, weekday=next(_matrix_numbers) % 7, start_time=time(19), end_time=time(21)
    )
    db.session.add(window)
    ctx.keep()
    return window


@builder
def restaurant_primetime(ctx: Ctx, who: str) -> Req:
    return Req(path=_restaurant_path(ctx, "/primetime"))


@builder
def new_primetime_window(ctx: Ctx, who: str) -> Req:
    return Req(path=_restaurant_path(ctx, "/primetime"), json={"weekday": 4, "start": "19:00", "end": "21:00"})


@builder
def primetime_window(ctx: Ctx, who: str) -> Req:
    window = ctx.once("primetime_window", lambda: _primetime_window(ctx))
    return Req(path=_restaurant_path(ctx, f"/primetime/{window.id}"))


@builder
def patch_primetime_window(ctx: Ctx, who: str) -> Req:
    window = ctx.once("primetime_window", lambda: _primetime_window(ctx))
    return Req(path=_restaurant_path(ctx, f"/primetime/{window.id}"), json={"active": False})


@builder
def delete_fresh_primetime_window(ctx: Ctx, who: str) -> Req:
    return Req(path=_restaurant_path(ctx, f"/primetime/{_primetime_window(ctx).id}"))


# --- booking: staff tools ---


def _pending_request(ctx: Ctx, who: str) -> Any:
    """A fresh website booking inside a primetime window (every day 17:00-23:00): pending."""
    from datetime import datetime, time

    from api.booking import service
    from api.restaurants.models import PrimetimeWindow

    def every_evening() -> list[PrimetimeWindow]:
        windows = [
            PrimetimeWindow(restaurant_id=ctx.restaurant.id, weekday=day, start_time=time(17), end_time=time(23))
            for day in range(7)
        ]
        db.session.add_all(windows)
        return windows

    ctx.once("primetime_every_evening", every_evening)
    booking = service.BookingRequest(
        time=datetime.fromisoformat(_website_time(ctx)), guests=2, name="Matrix", email=f"{ctx.unique(who)}@example.com"
    )
    reservation = service.create_reservation(restaurant=ctx.restaurant, booking=booking, now=ctx.now)
    ctx.keep()
    assert reservation.status == "pending"
    return reservation


@builder
def approve_fresh_request(ctx: Ctx, who: str) -> Req:
    return Req(path=f"/api/reservations/{_pending_request(ctx, who).id}/approve", json={"action": "approve"})


@builder
def decide_fresh_requests(ctx: Ctx, who: str) -> Req:
    item = {"reservationId": str(_pending_request(ctx, who).id), "action": "reject", "rejectionReason": "Matrix"}
    return Req(json={"items": [item]})


@builder
def new_staff_booking(ctx: Ctx, who: str) -> Req:
    body = {"name": "Matrix", "phone": "+1 555 0100", "partySize": 2, "time": _website_time(ctx, "18:00")}
    return Req(path=_restaurant_path(ctx, "/reservations"), json=body)


def _fresh_table(ctx: Ctx) -> Any:
    from api.restaurants.models import DiningTable

    table = DiningTable(restaurant_id=ctx.restaurant.id, number=1000 + next(_matrix_numbers), max_seats=2)
    db.session.add(table)
    ctx.keep()
    return table


def _block_body(ctx: Ctx) -> dict[str, str]:
    return {"start": _website_time(ctx, "18:00"), "end": _website_time(ctx, "20:00"), "reason": "Matrix"}


@builder
def table_blocks(ctx: Ctx, who: str) -> Req:
    return Req(path=_restaurant_path(ctx, f"/tables/{ctx.restaurant.tables[0].id}/blocks"))


@builder
def new_table_block(ctx: Ctx, who: str) -> Req:
    return Req(path=_restaurant_path(ctx, f"/tables/{_fresh_table(ctx).id}/blocks"), json=_block_body(ctx))


@builder
def delete_fresh_block(ctx: Ctx, who: str) -> Req:
    from datetime import datetime

    from api.booking import staff_bookings

    table = _fresh_table(ctx)
    block = staff_bookings.create_block(
        actor=ctx.admin,
        restaurant_id=ctx.restaurant.id,
        table_id=table.id,
        start=datetime.fromisoformat(_block_body(ctx)["start"]),
        end=datetime.fromisoformat(_block_body(ctx)["end"]),
        reason="Matrix",
        now=ctx.now,
    )
    ctx.keep()
    return Req(path=_restaurant_path(ctx, f"/tables/{table.id}/blocks/{block.id}"))


@builder
def booking_report(ctx: Ctx, who: str) -> Req:
    return Req(
        path=_restaurant_path(ctx, "/reports/bookings"),
        query={"startDate": _future_day(ctx), "endDate": _future_day(ctx)},
    )


@builder
def swipe_for_customer(ctx: Ctx, who: str) -> Req:
    return Req(path=_restaurant_path(ctx, "/swipe"), json={"userId": str(ctx.customer.id), "action": "like"})


@builder
def customer_feed(ctx: Ctx, who: str) -> Req:
    return Req(query={"userId": str(ctx.customer.id)})


@builder
def customer_preferences(ctx: Ctx, who: str) -> Req:
    return Req(path=f"/api/users/{ctx.customer.id}/preferences")


@builder
def put_customer_preferences(ctx: Ctx, who: str) -> Req:
    return Req(path=f"/api/users/{ctx.customer.id}/preferences", json={"cuisines": ["Italian"], "priceRanges": ["$$"]})


@builder
def new_favorite(ctx: Ctx, who: str) -> Req:
    return Req(json={"userId": str(ctx.customer.id), "restaurantId": str(ctx.restaurant.id), "matchScore": 80})


@builder
def customer_favorites(ctx: Ctx, who: str) -> Req:
    return Req(path=f"/api/favorites/{ctx.customer.id}", query={"limit": 50})


@builder
def favorite_query(ctx: Ctx, who: str) -> Req:
    return Req(query={"userId": str(ctx.customer.id), "restaurantId": str(ctx.restaurant.id)})


@builder
def customer_stats(ctx: Ctx, who: str) -> Req:
    return Req(path=f"/api/stats/{ctx.customer.id}")


# ----------------------------------------------------------------------------------------------
# The tests
# ----------------------------------------------------------------------------------------------


def _skipped(rule: Any) -> bool:
    static = rule.endpoint == "static" or rule.endpoint.endswith(".static")  # a blueprint's own assets
    return static or rule.rule.startswith("/docs") or rule.rule == "/openapi.json"


def _routes(app: Any) -> set[tuple[str, str]]:
    return {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if not _skipped(rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


@functools.cache
def _password_hash() -> str:
    return PasswordHasher().hash(PASSWORD)


def _make_user(role: Role = Role.CUSTOMER, email: str | None = None, restaurant_id: Any = None) -> User:
    """conftest's make_user, minus one argon2 hash per user (the matrix makes many)."""
    email = (email or f"{Ctx.unique(str(role))}@example.com").lower()
    user = User(email=email, password_hash=_password_hash(), name=email.split("@")[0], role=role)
    user.restaurant_id = restaurant_id
    db.session.add(user)
    db.session.flush()
    return user


@pytest.fixture
def ctx(app) -> Ctx:
    restaurant, _ = ensure_cafe_fausse()
    context = Ctx(
        customer=_make_user(Role.CUSTOMER, "guest@example.com"),
        other_customer=_make_user(Role.CUSTOMER, "other-guest@example.com"),
        staff=_make_user(Role.STAFF, "staff@example.com", restaurant_id=restaurant.id),
        admin=_make_user(Role.ADMIN, "admin@example.com"),
        restaurant=restaurant,
        make_user=_make_user,
    )
    context.keep()
    return context


def test_every_route_has_a_matrix_entry(app):
    routes = _routes(app)
    missing = sorted(routes - MATRIX.keys())
    stale = sorted(MATRIX.keys() - routes)
    lines = []
    if missing:
        lines.append("Routes without an entry (add them to MATRIX with the right access; see the file's docstring):")
        lines += [f'    ("{method}", "{rule}"): (signed_in(), None),' for method, rule in missing]
    if stale:
        lines.append("Entries for routes that do not exist (remove them, or fix the rule's spelling):")
        lines += [f'    ("{method}", "{rule}")' for method, rule in stale]
    assert not lines, "\n".join(lines)


def test_every_named_builder_exists():
    unknown = sorted({name for _, name in MATRIX.values() if name is not None} - BUILDERS.keys())
    assert not unknown, f"MATRIX names builders that are not defined with @builder: {unknown}"


@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda route: f"{route[0]} {route[1]}")
def test_route_answers_each_caller_as_the_matrix_says(route, app, ctx):
    method, rule = route
    access, builder_name = MATRIX[route]
    build = BUILDERS.get(builder_name) if builder_name else None
    problems: list[str] = []
    for who in PERSONAS:
        request = build(ctx, who) if build else Req()
        path = request.path or rule
        assert "<" not in path, f"{rule} has path parameters: give it a request builder"
        client = app.test_client()
        for name, value in request.cookies.items():
            client.set_cookie(name, value)
        response = client.open(
            path,
            method=method,
            json=request.json,
            query_string=request.query,
            headers={**persona_headers(ctx, who), **request.headers},
        )
        expected = access[who]
        status = response.status_code
        body = response.get_json(silent=True) if response.is_json else None
        code = body.get("code") if isinstance(body, dict) else None
        if not matches(expected, status):
            problems.append(f"  {who:<9} expected {expected}, got {status} {code or ''}")
        elif status == 401 and who in TOKEN_ERROR_CODES and code != TOKEN_ERROR_CODES[who]:
            problems.append(f"  {who:<9} 401 should say {TOKEN_ERROR_CODES[who]}, says {code}")
        if status >= 400 and not (isinstance(body, dict) and {"code", "message", "details"} <= body.keys()):
            problems.append(f"  {who:<9} {status} is not the JSON error envelope")
    assert not problems, f"{method} {rule}:\n" + "\n".join(problems)
