"""Wire shapes of the accounts endpoints (camelCase on the wire). No schema has a password hash field."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from api.accounts import service as accounts_service
from api.accounts.models import Role
from api.accounts.service import PASSWORD_MIN_LENGTH, split_name
from api.schemas import CamelCaseSchema, PaginationSchema

# argon2 accepts any length; the cap only stops someone making us hash megabytes.
PASSWORD_MAX_LENGTH = 1024


def _first_name(user: Any) -> str:
    return split_name(user.name)[0]


def _last_name(user: Any) -> str:
    return split_name(user.name)[1]


def _new_password() -> fields.String:
    # The minimum is the password policy's (422 WEAK_PASSWORD, not VALIDATION_ERROR): documented here.
    return fields.String(
        required=True,
        load_only=True,
        validate=validate.Length(max=PASSWORD_MAX_LENGTH),
        metadata={"minLength": PASSWORD_MIN_LENGTH},
    )


class UserSchema(CamelCaseSchema):
    id = fields.UUID(dump_only=True)
    email = fields.String()
    name = fields.String()
    phone = fields.String()
    role = fields.String(metadata={"enum": [r.value for r in Role]})
    is_active = fields.Boolean()
    restaurant_id = fields.UUID(allow_none=True, metadata={"description": "The restaurant a staff member works for"})
    created_at = fields.DateTime()


class AppUserSchema(UserSchema):
    """The app frontend's `User`: the account, its name in two parts and its discovery preferences."""

    first_name = fields.Function(_first_name, metadata={"description": "`name` up to its first space"})
    last_name = fields.Function(_last_name, metadata={"description": "`name` after its first space"})
    profile_image = fields.Function(lambda _user: None, allow_none=True, metadata={"description": "Always null"})
    updated_at = fields.DateTime()

    preferences = fields.Function(
        lambda user: accounts_service.profile_preferences(user_id=user.id),
        metadata={
            "description": "cuisineTypes, dietaryRestrictions, priceRange, maxDistance, location, "
            "favoriteRestaurants (see PATCH /api/auth/preferences)"
        },
    )


class RegisterSchema(CamelCaseSchema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = _new_password()
    name = fields.String(load_default="", validate=validate.Length(max=200))
    phone = fields.String(load_default="", validate=validate.Length(max=40))


class AccountSignupSchema(CamelCaseSchema):
    """The app frontend's sign-up: the name in two parts."""

    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = _new_password()
    first_name = fields.String(load_default="", validate=validate.Length(max=100))
    last_name = fields.String(load_default="", validate=validate.Length(max=100))


class LoginSchema(CamelCaseSchema):
    # A plain string, not Email: a malformed address is simply a wrong credential (401).
    email = fields.String(required=True, validate=validate.Length(min=1, max=254))
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=PASSWORD_MAX_LENGTH))


class RefreshCookieSchema(ma.Schema):
    """The HttpOnly refresh cookie set by sign-in (browsers send it; scripts cannot read it)."""

    class Meta:
        unknown = ma.EXCLUDE

    refresh_token = fields.String(
        load_default=None,
        metadata={"description": "Opaque refresh token (HttpOnly cookie, Path=/api/auth), plain-http development"},
    )
    secure_refresh_token = fields.String(
        data_key="__Secure-refresh_token",
        load_default=None,
        metadata={"description": "The same, Secure, as every deployment over https names it"},
    )


class SessionSchema(CamelCaseSchema):
    """A fresh access token. The rotated refresh token travels only in the cookie."""

    access_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = fields.Integer(required=True, metadata={"description": "Access token lifetime in seconds"})
    user = fields.Nested(AppUserSchema, required=True)


class UserListQuerySchema(CamelCaseSchema):
    """`page`, `pageSize`, and optional filters by role and email substring."""

    class Meta:
        unknown = ma.EXCLUDE

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    page_size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    role = fields.String(load_default=None, validate=validate.OneOf([r.value for r in Role]))
    email = fields.String(load_default=None, validate=validate.Length(min=1, max=254))


class UserPageSchema(CamelCaseSchema):
    items = fields.List(fields.Nested(UserSchema), required=True)
    pagination = fields.Nested(PaginationSchema, required=True)


class UserUpdateSchema(CamelCaseSchema):
    """Fields an admin may change; absent fields stay as they are. `isActive: false` deactivates
    the user: they can no longer sign in and all their sessions end at once."""

    name = fields.String(validate=validate.Length(max=200))
    phone = fields.String(validate=validate.Length(max=40))
    role = fields.String(validate=validate.OneOf([r.value for r in Role]))
    is_active = fields.Boolean()
    restaurant_id = fields.UUID(allow_none=True)


class UserCreateSchema(CamelCaseSchema):
    """An account an admin creates. Without `password` the user is emailed a link to choose one."""

    email = fields.Email(required=True, validate=validate.Length(max=254))
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in Role]))
    name = fields.String(load_default="", validate=validate.Length(max=200))
    phone = fields.String(load_default="", validate=validate.Length(max=40))
    restaurant_id = fields.UUID(
        load_default=None, allow_none=True, metadata={"description": "Required for staff, refused for others"}
    )
    password = fields.String(
        load_default=None,
        load_only=True,
        validate=validate.Length(max=PASSWORD_MAX_LENGTH),
        metadata={"minLength": PASSWORD_MIN_LENGTH, "description": "Omit it to send an invitation email instead"},
    )


class ByRoleSchema(CamelCaseSchema):
    customer = fields.Integer(required=True)
    staff = fields.Integer(required=True)
    admin = fields.Integer(required=True)


class UsersSummarySchema(CamelCaseSchema):
    total_users = fields.Integer(required=True)
    by_role = fields.Nested(ByRoleSchema, required=True)
    active_users = fields.Integer(required=True, metadata={"description": "Users not deactivated"})


class ProfileUpdateSchema(CamelCaseSchema):
    """The fields users change on their own account; absent fields stay as they are."""

    name = fields.String(validate=validate.Length(max=200))
    phone = fields.String(validate=validate.Length(max=40))


class PasswordChangeSchema(CamelCaseSchema):
    current_password = fields.String(
        required=True, load_only=True, validate=validate.Length(min=1, max=PASSWORD_MAX_LENGTH)
    )
    new_password = _new_password()


class PasswordResetRequestSchema(CamelCaseSchema):
    email = fields.Email(required=True, validate=validate.Length(max=254))


class PasswordResetConfirmSchema(CamelCaseSchema):
    token = fields.String(
        required=True, validate=validate.Length(min=1, max=200), metadata={"description": "From the emailed link"}
    )
    password = _new_password()


class AcceptedSchema(CamelCaseSchema):
    message = fields.String(required=True)
