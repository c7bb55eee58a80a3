"""Guest profiles per restaurant: visits, no-shows and late cancellations from bookings; staff notes and tags."""
