"""Wire shapes of the newsletter form (seed 003): `{email, name?, phone?}` answers `{success: true}`."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from api.errors import ErrorCode, Unprocessable
from api.schemas import CamelCaseSchema


class TrimmedEmail(fields.Email):
    """An email address; the spaces a phone keyboard adds around it are not an error."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        return super()._deserialize(value.strip() if isinstance(value, str) else value, attr, data, **kwargs)


class SignupSchema(CamelCaseSchema):
    """`{email, name?, phone?}`; a bad or missing email answers 422 BAD_EMAIL."""

    email = TrimmedEmail(required=True, validate=validate.Length(max=254))
    name = fields.String(load_default="", allow_none=True, validate=validate.Length(max=200))
    phone = fields.String(load_default="", allow_none=True, validate=validate.Length(max=40))

    def handle_error(self, error: ma.ValidationError, data: Any, *, many: bool, **kwargs: Any) -> None:
        # The website's client switches on BAD_EMAIL, whether the schema or the service catches it.
        if isinstance(error.messages, dict) and "email" in error.messages:
            raise Unprocessable(
                ErrorCode.BAD_EMAIL, "email must be a valid email address.", details={"fields": error.messages}
            )


class UnsubscribeSchema(CamelCaseSchema):
    """`{token}`: the secret from the unsubscribe link."""

    token = fields.String(required=True, validate=validate.Length(min=1, max=64))


class SuccessSchema(CamelCaseSchema):
    success = fields.Boolean(required=True)
