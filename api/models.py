"""Import every domain's models so that `Base.metadata` is complete (alembic, tests)."""

from __future__ import annotations

from api.accounts import models as accounts_models
from api.booking import models as booking_models
from api.discovery import models as discovery_models
from api.guests import models as guests_models
from api.idempotency import models as idempotency_models
from api.newsletter import models as newsletter_models
from api.outbox import models as outbox_models
from api.payments import models as payments_models
from api.restaurants import models as restaurants_models
from api.trades import models as trades_models

__all__ = [
    "accounts_models",
    "booking_models",
    "discovery_models",
    "guests_models",
    "idempotency_models",
    "newsletter_models",
    "outbox_models",
    "payments_models",
    "restaurants_models",
    "trades_models",
]
