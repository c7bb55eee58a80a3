"""Payments: a gateway interface (Stripe or a local fake) and the payment rows behind it.

Knows payments, not bookings: see `service.py` for the interface the booking domain uses.
"""
