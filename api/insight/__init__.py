"""Insight: read-only figures over the other domains (the app frontend's user stats, booking reports)."""
