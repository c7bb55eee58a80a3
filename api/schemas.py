"""Shared marshmallow schemas: camelCase on the wire, snake_case in Python."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate


def camelcase(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class CamelCaseSchema(ma.Schema):
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


class PageQuerySchema(ma.Schema):
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
