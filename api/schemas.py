"""Shared marshmallow schemas: camelCase on the wire, snake_case in Python."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import marshmallow as ma
from marshmallow import fields, pre_load, validate

NUL_MESSAGE = "Text may not contain NUL characters."
SURROGATE_MESSAGE = "Text may not contain unpaired surrogate characters."


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_millis(instant: datetime) -> int:
    return (instant - _EPOCH) // timedelta(milliseconds=1)


class EpochMillis(fields.Integer):
    """An aware datetime as milliseconds since the Unix epoch (dump only), as the app frontend reads instants."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> int | None:
        return None if value is None else epoch_millis(value)


def camelcase(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _text_errors(value: Any) -> list[str] | None:
    if "\x00" in value:
        return [NUL_MESSAGE]
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # JSON "\ud800": a lone surrogate, which no UTF-8 database can store
        return [SURROGATE_MESSAGE]
    return None


def _safe_name(key: Any) -> Any:
    """A key fit to echo in an error that may itself be stored (an idempotent route keeps its 422 in jsonb)."""
    if not isinstance(key, str):
        return key
    return key.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\u0000")


def unstorable_text(value: Any) -> Any:
    """Where `value` holds text PostgreSQL cannot store (NUL, lone surrogates), as marshmallow-shaped
    messages keyed like the input (list positions by index); None when there is none."""
    if isinstance(value, str):
        return _text_errors(value)
    if isinstance(value, Mapping):
        errors: dict[Any, Any] = {}
        for key in value:
            found = unstorable_text(value[key]) or (unstorable_text(key) if isinstance(key, str) else None)
            if found:
                errors[_safe_name(key)] = found
        return errors or None
    if isinstance(value, list | tuple):
        errors = {index: found for index, item in enumerate(value) if (found := unstorable_text(item))}
        return errors or None
    return None


class BaseSchema(ma.Schema):
    """Input PostgreSQL can store: NUL or a lone surrogate in any string (body, query, nested, keys) is a 422
    naming the field, for every schema built on this one.

    PostgreSQL text and jsonb cannot hold U+0000 and UTF-8 cannot encode a lone surrogate; without this
    check the driver refuses them mid-request (a 500).
    """

    @pre_load(pass_collection=True)
    def _refuse_unstorable_text(self, data: Any, **kwargs: Any) -> Any:
        errors = unstorable_text(data)
        if errors:
            raise ma.ValidationError(errors if isinstance(errors, dict) else {"_schema": errors})
        return data


class CamelCaseSchema(BaseSchema):
    """Every field's wire name is its attribute name in camelCase; unknown fields are refused."""

    class Meta:
        unknown = ma.RAISE

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        field_obj.data_key = camelcase(field_obj.data_key or field_name)


class ErrorSchema(ma.Schema):
    """The one error envelope every non-2xx response carries."""

    code = fields.String(required=True, metadata={"description": "Stable UPPER_SNAKE error code"})
    message = fields.String(required=True, metadata={"description": "Human-readable explanation"})
    details = fields.Dict(metadata={"description": "Structured context (field errors, limits, ids)"})


# The days a client may name: wide enough for any booking horizon or history, narrow enough that
# arithmetic on them (time zones, stays, DST) never leaves the calendar (9999-12-31 + an offset does).
EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2199, 12, 31)
_DATE_RANGE_MESSAGE = f"Must be between {EARLIEST_DATE.isoformat()} and {LATEST_DATE.isoformat()}."
# The years 2000-2199 as the spec can say them (beside `format`, which checks the calendar).
_YEAR_RANGE_PATTERN = "^2[01][0-9]{2}-"


class CalendarDate(fields.Date):
    """A date between EARLIEST_DATE and LATEST_DATE."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.metadata = {"pattern": _YEAR_RANGE_PATTERN, **self.metadata}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        parsed = super()._deserialize(value, attr, data, **kwargs)
        if not EARLIEST_DATE <= parsed <= LATEST_DATE:
            raise ma.ValidationError(_DATE_RANGE_MESSAGE)
        return parsed


class CalendarDateTime(fields.DateTime):
    """An ISO 8601 date-time (with or without offset) whose date lies between EARLIEST_DATE and LATEST_DATE."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.metadata = {"pattern": _YEAR_RANGE_PATTERN, **self.metadata}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        parsed = super()._deserialize(value, attr, data, **kwargs)
        if not EARLIEST_DATE <= parsed.date() <= LATEST_DATE:
            raise ma.ValidationError(_DATE_RANGE_MESSAGE)
        return parsed


class PageQuerySchema(BaseSchema):
    """`page` (1-based) and `page_size` (bounded) query arguments, as the Café Fausse listing sends them."""

    class Meta:
        unknown = ma.EXCLUDE

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    page_size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class PaginationSchema(CamelCaseSchema):
    page = fields.Integer()
    page_size = fields.Integer()
    total = fields.Integer()
    pages = fields.Integer()
    next_page = fields.Integer(allow_none=True)
    prev_page = fields.Integer(allow_none=True)


def pagination(*, page: int, page_size: int, total: int) -> dict[str, Any]:
    """Pagination metadata for a page of `total` items."""
    pages = max(1, -(-total // page_size))
    return {
        "page": page,
        "page_size": page_size,
        "total": total,
        "pages": pages,
        "next_page": page + 1 if page < pages else None,
        "prev_page": page - 1 if page > 1 else None,
    }


def strict_nullable_nested(self: Any, field: fields.Field, ret: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """apispec's OpenAPI 3.0 form of a nullable nested schema, `anyOf: [$ref, {type: object, nullable: true}]`,
    admits any object through its second branch; narrow that branch to null alone."""
    for branch in ret.get("anyOf", []):
        if branch == {"type": "object", "nullable": True}:
            branch["enum"] = [None]
    return {}


def exclusive_ranges(self: Any, field: fields.Field, **kwargs: Any) -> dict[str, Any]:
    """apispec writes `Range(min=0, min_inclusive=False)` as `minimum: 0`, which admits the 0 the field
    refuses; OpenAPI 3.0's boolean `exclusiveMinimum`/`exclusiveMaximum` say it."""
    bounds: dict[str, Any] = {}
    for validator in field.validators:
        if isinstance(validator, validate.Range):
            if validator.min is not None and not validator.min_inclusive:
                bounds["exclusiveMinimum"] = True
            if validator.max is not None and not validator.max_inclusive:
                bounds["exclusiveMaximum"] = True
    return bounds
