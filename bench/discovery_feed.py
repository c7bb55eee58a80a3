"""Discovery feed benchmark: 10,000 restaurants, 100,000 swipes, the feed answered from indexes.

    .venv/bin/python bench/discovery_feed.py                 # embedded PostgreSQL (pgserver) in a temp dir
    BENCH_DATABASE_URL=postgresql+psycopg2://u:p@host/postgres .venv/bin/python bench/discovery_feed.py

BENCH_DATABASE_URL names a server where the benchmark may create (and then drop) a database.
It migrates a fresh database with alembic, loads a deterministic dataset (restaurants in four
cities, 1,000 users, swipes mostly in each user's own city, preferences for 80% of the users),
runs VACUUM ANALYZE, then times:

- the feed query alone (`discovery.service.build_feed_query`, what the database does), and
- the whole `get_feed` service call (preferences + likes + feed query + loading the restaurants),

for users with preferences (home, cuisines, prices, 5 miles) and for users without any (the whole
catalogue is ranked), and prints p50/p95 over N runs plus an EXPLAIN (ANALYZE, BUFFERS) summary
that names the index used for each relation. Figures go to docs/benchmarks.md ("Discovery feed").
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import Connection, create_engine, insert, text  # noqa: E402

CITIES = [  # (name, latitude, longitude)
    ("New York", 40.7359, -73.9911),
    ("Washington", 38.9072, -77.0369),
    ("Chicago", 41.8881, -87.6298),
    ("San Francisco", 37.7749, -122.4194),
]
CUISINES = [
    "Italian",
    "Japanese",
    "Mexican",
    "French",
    "Chinese",
    "Indian",
    "Thai",
    "American",
    "Mediterranean",
    "Korean",
    "Spanish",
    "Vietnamese",
    "Greek",
    "Seafood",
    "Steakhouse",
    "Vegetarian",
]
FEATURES = ["Romantic", "Outdoor Seating", "Wine Bar", "Live Music", "Rooftop", "Brunch", "Late Night", "Kid Friendly"]


@dataclass(frozen=True)
class Dataset:
    restaurant_ids: list[uuid.UUID]
    users_with_preferences: list[uuid.UUID]
    users_without_preferences: list[uuid.UUID]
    swipes: int


def build_dataset(
    connection: Connection, *, restaurants: int, users: int, swipes: int, seed: int = 20261121
) -> Dataset:
    """Insert a deterministic catalogue, users, preferences and swipes through `connection`.

    Core inserts apply the models' Python-side defaults, so the dataset keeps up with new columns.
    Shared with tests/discovery/test_feed_plan.py, which builds a smaller one.
    """
    from api.accounts.models import User
    from api.discovery.models import Swipe, UserPreferences
    from api.restaurants.models import Restaurant

    rng = random.Random(seed)

    def new_id() -> uuid.UUID:
        return uuid.UUID(int=rng.getrandbits(128), version=4)

    now = datetime(2026, 3, 1, tzinfo=UTC)
    by_city: dict[int, list[uuid.UUID]] = {i: [] for i in range(len(CITIES))}
    rows: list[dict[str, Any]] = []
    for n in range(restaurants):
        city = rng.randrange(len(CITIES))
        name, lat0, lon0 = CITIES[city]
        rid = new_id()
        by_city[city].append(rid)
        rows.append(
            {
                "id": rid,
                "slug": f"bench-{n}",
                "name": f"Bench {n}",
                "cuisines": rng.sample(CUISINES, rng.choice([1, 1, 2])),
                "price_range": rng.choice([1, 2, 2, 3, 3, 4]),
                "rating": round(rng.uniform(3.0, 5.0), 1),
                "review_count": round(math.exp(rng.uniform(math.log(5), math.log(5000)))),
                "features": rng.sample(FEATURES, rng.randint(0, 3)),
                "city": name,
                # ~5.5 miles (sd) around the centre: a 5-mile radius holds a few hundred restaurants.
                "latitude": lat0 + rng.gauss(0, 0.08),
                "longitude": lon0 + rng.gauss(0, 0.1),
                "deposit_per_person_cents": rng.choice([0, 0, 1000, 2500]),
            }
        )
    for start in range(0, len(rows), 2000):
        connection.execute(insert(Restaurant.__table__), rows[start : start + 2000])

    user_rows, preference_rows, swipe_rows = [], [], []
    with_prefs, without_prefs = [], []
    per_user = swipes // users
    all_ids = [r["id"] for r in rows]
    for n in range(users):
        uid = new_id()
        user_rows.append({"id": uid, "email": f"bench-{n}@bench.local", "password_hash": "not-a-login"})
        city = rng.randrange(len(CITIES))
        if rng.random() < 0.8:
            with_prefs.append(uid)
            _, lat0, lon0 = CITIES[city]
            preference_rows.append(
                {
                    "user_id": uid,
                    "cuisines": rng.sample(CUISINES, 4),
                    "price_ranges": sorted(rng.sample([1, 2, 3, 4], 3)),
                    "home_latitude": lat0 + rng.gauss(0, 0.03),
                    "home_longitude": lon0 + rng.gauss(0, 0.04),
                    "max_distance_miles": 5.0,
                    "updated_at": now,
                }
            )
        else:
            without_prefs.append(uid)
        # Most swipes are on restaurants of the user's own city: the ones the feed would show.
        local = by_city[city]
        chosen = set(rng.sample(local, min(len(local), per_user * 4 // 5)))
        while len(chosen) < per_user:
            chosen.add(rng.choice(all_ids))
        for rid in sorted(chosen):
            action = "like" if rng.random() < 0.35 else "pass"
            swipe_rows.append(
                {"user_id": uid, "restaurant_id": rid, "action": action, "created_at": now, "updated_at": now}
            )
    connection.execute(insert(User.__table__), user_rows)
    if preference_rows:
        connection.execute(insert(UserPreferences.__table__), preference_rows)
    for start in range(0, len(swipe_rows), 5000):
        connection.execute(insert(Swipe.__table__), swipe_rows[start : start + 5000])
    return Dataset(
        restaurant_ids=all_ids,
        users_with_preferences=with_prefs,
        users_without_preferences=without_prefs,
        swipes=len(swipe_rows),
    )


def plan_nodes(plan: dict[str, Any], relation: str = "") -> Iterator[dict[str, Any]]:
    """Every node of an EXPLAIN (FORMAT JSON) plan, depth first (init plans and subplans included).

    A Bitmap Index Scan names no relation; it gets its Bitmap Heap Scan's as "Relation Name".
    """
    relation = plan.get("Relation Name", relation)
    yield {"Relation Name": relation, **plan} if relation else plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child, relation)


def index_scans(plan: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(node type, index name, relation) of every index scan in the plan."""
    return [
        (node["Node Type"], node["Index Name"], node.get("Relation Name", ""))
        for node in plan_nodes(plan)
        if "Index Name" in node
    ]


# ---------------------------------------------------------------- running it


@contextmanager
def bench_database() -> Iterator[str]:
    """A fresh, migrated database URL on BENCH_DATABASE_URL's server or an embedded one."""
    from tests.support.databases import migrated_database

    with migrated_database("BENCH_DATABASE_URL") as url:
        yield url


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, math.ceil(pct / 100 * len(ordered)) - 1)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--restaurants", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=1_000)
    parser.add_argument("--swipes", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--limit", type=int, default=20)
    args = parser.parse_args()

    from api import create_app
    from api.accounts.models import User
    from api.discovery import service as discovery
    from api.extensions import db

    with bench_database() as url:
        engine = create_engine(url)
        started = time.perf_counter()
        with engine.begin() as conn:
            data = build_dataset(conn, restaurants=args.restaurants, users=args.users, swipes=args.swipes)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
            version = conn.execute(text("SHOW server_version")).scalar()
        engine.dispose()
        print(
            f"dataset: {len(data.restaurant_ids):,} restaurants, {args.users:,} users "
            f"({len(data.users_with_preferences):,} with preferences), {data.swipes:,} swipes "
            f"— loaded in {time.perf_counter() - started:.1f} s; PostgreSQL {version}"
        )

        app = create_app({"env": "test", "database_url": url, "log_level": "WARNING", "ratelimit_enabled": False})
        with app.app_context():
            for label, users in (
                ("with preferences (home, 4 cuisines, 3 prices, 5 mi)", data.users_with_preferences),
                ("without preferences (whole catalogue ranked)", data.users_without_preferences),
            ):
                query_ms, service_ms, sizes = [], [], []
                for run in range(args.runs):
                    user_id = users[run % len(users)]
                    preferences = discovery.load_preferences(user_id=user_id)
                    affinity = discovery.load_affinity(user_id=user_id)
                    query, params = discovery.build_feed_query(
                        user_id=user_id, preferences=preferences, affinity=affinity, limit=args.limit
                    )
                    t0 = time.perf_counter()
                    sizes.append(len(db.session.execute(query, params).all()))
                    query_ms.append((time.perf_counter() - t0) * 1000)
                    db.session.rollback()
                    actor = db.session.get(User, user_id)
                    t0 = time.perf_counter()
                    discovery.get_feed(actor=actor, user_id=None, limit=args.limit)
                    service_ms.append((time.perf_counter() - t0) * 1000)
                    db.session.rollback()
                print(f"\nusers {label}: {args.runs} runs, {statistics.mean(sizes):.1f} restaurants per feed")
                print(
                    f"  feed query  p50 {percentile(query_ms, 50):6.2f} ms   p95 {percentile(query_ms, 95):6.2f} ms"
                    f"   max {max(query_ms):6.2f} ms"
                )
                print(
                    f"  get_feed()  p50 {percentile(service_ms, 50):6.2f} ms   p95 {percentile(service_ms, 95):6.2f} ms"
                    f"   max {max(service_ms):6.2f} ms"
                )
                user_id = users[0]
                preferences = discovery.load_preferences(user_id=user_id)
                affinity = discovery.load_affinity(user_id=user_id)
                query, params = discovery.build_feed_query(
                    user_id=user_id,
                    preferences=preferences,
                    affinity=affinity,
                    limit=args.limit,
                    explain="ANALYZE, BUFFERS, FORMAT JSON",
                )
                explained = db.session.execute(query, params).scalar_one()[0]
                db.session.rollback()
                root = explained["Plan"]
                print(
                    f"  EXPLAIN ANALYZE: execution {explained['Execution Time']:.2f} ms, planning "
                    f"{explained['Planning Time']:.2f} ms, shared buffers hit {root.get('Shared Hit Blocks', 0)}"
                    f" read {root.get('Shared Read Blocks', 0)}, {affinity.likes} likes"
                )
                for node_type, index, relation in index_scans(root):
                    print(f"    {node_type} using {index} on {relation}")
                scanned = sorted({n["Relation Name"] for n in plan_nodes(root) if n["Node Type"] == "Seq Scan"})
                print(f"    sequential scans: {', '.join(scanned) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
