"""The feed query at a meaningful size reads swipes through their index, never by scanning them.

The dataset is bench/discovery_feed.py's generator at a tenth of the benchmark's size: 1,000
restaurants in four cities, 300 users, 30,000 swipes. Plans are checked, timings never.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from api.discovery import service as discovery
from api.discovery.models import SWIPES_PRIMARY_KEY
from api.extensions import db
from bench.discovery_feed import build_dataset, plan_nodes

INDEX_SCANS = {"Index Scan", "Index Only Scan", "Bitmap Index Scan"}


@pytest.fixture
def dataset(app):
    data = build_dataset(db.session.connection(), restaurants=1_000, users=300, swipes=30_000, seed=7)
    for table in ("restaurants", "swipes", "user_preferences", "users"):
        db.session.execute(text(f"ANALYZE {table}"))
    return data


def explain(user_id):
    preferences = discovery.load_preferences(user_id=user_id)
    affinity = discovery.load_affinity(user_id=user_id)
    assert affinity.likes > 0
    query, params = discovery.build_feed_query(
        user_id=user_id, preferences=preferences, affinity=affinity, limit=20, explain="FORMAT JSON"
    )
    return db.session.execute(query, params).scalar_one()[0]["Plan"]


@pytest.mark.parametrize("kind", ["users_with_preferences", "users_without_preferences"])
def test_swipe_exclusion_uses_the_swipes_primary_key(dataset, kind):
    plan = explain(getattr(dataset, kind)[0])

    nodes = list(plan_nodes(plan))
    assert any(n["Node Type"] in INDEX_SCANS and n.get("Index Name") == SWIPES_PRIMARY_KEY for n in nodes), nodes
    assert not any(n["Node Type"] == "Seq Scan" and n.get("Relation Name") == "swipes" for n in nodes)


def test_feed_on_the_dataset_excludes_every_swiped_restaurant(dataset):
    user_id = dataset.users_without_preferences[0]
    swiped = set(db.session.scalars(text("SELECT restaurant_id FROM swipes WHERE user_id = :u"), {"u": user_id}))
    preferences = discovery.load_preferences(user_id=user_id)
    affinity = discovery.load_affinity(user_id=user_id)
    query, params = discovery.build_feed_query(user_id=user_id, preferences=preferences, affinity=affinity, limit=50)

    rows = db.session.execute(query, params).all()

    assert len(rows) == 50
    assert len(swiped) == 100 and {type(r) for r in swiped} == {type(rows[0].id)}
    assert not swiped & {row.id for row in rows}
    assert [row.score for row in rows] == sorted((row.score for row in rows), reverse=True)


def test_affinity_shortlist_gives_the_feed_that_scoring_every_candidate_gives(dataset):
    users = dataset.users_with_preferences[:10] + dataset.users_without_preferences[:10]
    for user_id in users:
        preferences = discovery.load_preferences(user_id=user_id)
        affinity = discovery.load_affinity(user_id=user_id)
        query, params = discovery.build_feed_query(
            user_id=user_id, preferences=preferences, affinity=affinity, limit=20
        )
        everyone = {**params, "affinity_bound": 1e9}  # no candidate can be left out

        shortlisted = db.session.execute(query, params).all()
        full = db.session.execute(query, everyone).all()

        assert [(r.id, r.match_score) for r in shortlisted] == [(r.id, r.match_score) for r in full]
