"""Discovery: a user's dining preferences, their swipes and the ranked restaurant feed (seed 000, endpoint 7)."""
