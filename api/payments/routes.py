"""The payment gateway's webhook: public (the gateway signs it), verified, claimed once per event."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import request
from flask_smorest import Blueprint
from marshmallow import fields

from api.payments import service as payments_service
from api.schemas import CamelCaseSchema, ErrorSchema

blp = Blueprint("payments", __name__, url_prefix="/api/payments", description="Payment gateway webhooks")


class WebhookReceiptSchema(CamelCaseSchema):
    received = fields.Boolean(required=True)
    duplicate = fields.Boolean(required=True, metadata={"description": "The event was already processed"})


_SIGNATURE_HEADER = {
    "in": "header",
    "name": "Stripe-Signature",
    "required": True,
    "schema": {"type": "string"},
    "description": "t=<unix time>,v1=<HMAC-SHA256 of '<t>.<body>' with the webhook secret>",
}


@blp.route("/webhook", methods=["POST"])
@blp.doc(
    security=[],
    parameters=[_SIGNATURE_HEADER],
    requestBody={"required": True, "content": {"application/json": {"schema": {"type": "object"}}}},
)
@blp.response(200, WebhookReceiptSchema)
@blp.alt_response(400, schema=ErrorSchema, description="Forged, stale or malformed event (WEBHOOK_SIGNATURE_INVALID)")
@blp.alt_response(
    409, schema=ErrorSchema, description="Another delivery of this event is being processed (WEBHOOK_IN_PROGRESS)"
)
@blp.alt_response(503, schema=ErrorSchema, description="The payment could not be synced; the gateway retries")
def webhook() -> payments_service.WebhookReceipt:
    """Receive a signed payment gateway event."""
    return payments_service.handle_webhook(
        payload=request.get_data(),
        signature_header=request.headers.get("Stripe-Signature", ""),
        now=datetime.now(UTC),
    )
