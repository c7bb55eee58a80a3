"""Trades (seed 002): two guests swap their reservations' times and tables."""
