"""The booking invariants, checked in SQL on exact time ranges (never on slot buckets)."""

from __future__ import annotations

from sqlalchemy import Connection, text

# Two claims on one table whose [start, end) ranges overlap: the exclusion constraint forbids it.
OVERLAPPING_CLAIMS = """
    SELECT a.id, b.id FROM table_occupancies a JOIN table_occupancies b
      ON a.table_id = b.table_id AND a.id < b.id
     AND tstzrange(a.starts_at, a.ends_at) && tstzrange(b.starts_at, b.ends_at)
"""

# The promise in terms of bookings: no two live reservations on one table overlap in time.
OVERLAPPING_RESERVATIONS = """
    SELECT a.id, b.id FROM reservations a JOIN reservations b
      ON a.table_id = b.table_id AND a.id < b.id
     AND tstzrange(a.starts_at, a.ends_at) && tstzrange(b.starts_at, b.ends_at)
     WHERE a.status IN ('pending', 'confirmed', 'seated') AND b.status IN ('pending', 'confirmed', 'seated')
"""

# Every live reservation claims its table for exactly its stay; a seated party for its stay, from when
# it sat down (early arrivals); a completed one at most what it used; the other statuses nothing.
MISCLAIMED_RESERVATIONS = """
    SELECT r.id FROM reservations r
      LEFT JOIN table_occupancies o
        ON o.reservation_id = r.id AND o.table_id = r.table_id
       AND o.starts_at = r.starts_at AND o.ends_at = r.ends_at
     WHERE r.status IN ('pending', 'confirmed')
     GROUP BY r.id HAVING count(o.id) <> 1
    UNION ALL
    SELECT r.id FROM reservations r
      LEFT JOIN table_occupancies o
        ON o.reservation_id = r.id AND o.table_id = r.table_id
       AND o.starts_at <= r.starts_at AND o.ends_at = r.ends_at
     WHERE r.status = 'seated'
     GROUP BY r.id HAVING count(o.id) <> 1
    UNION ALL
    SELECT r.id FROM reservations r JOIN table_occupancies o ON o.reservation_id = r.id
     WHERE r.status IN ('rejected', 'cancelled', 'no_show')
        OR (r.status = 'completed' AND (o.ends_at > r.ends_at OR o.table_id <> r.table_id))
"""


def violations(conn: Connection) -> dict[str, list]:
    """Each invariant's offending rows; every list is empty when nothing is sold twice."""
    return {
        name: [tuple(row) for row in conn.execute(text(sql))]
        for name, sql in (
            ("overlapping_claims", OVERLAPPING_CLAIMS),
            ("overlapping_reservations", OVERLAPPING_RESERVATIONS),
            ("misclaimed_reservations", MISCLAIMED_RESERVATIONS),
        )
    }


def assert_nothing_sold_twice(conn: Connection) -> None:
    found = violations(conn)
    assert found == {name: [] for name in found}, found
