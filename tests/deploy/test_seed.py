"""`flask seed` loads the demo catalogue only when asked (SEED_DEMO or --demo)."""

from __future__ import annotations

from sqlalchemy import func, select

from api.extensions import db
from api.restaurants.models import Restaurant


def _restaurants() -> int:
    return db.session.scalar(select(func.count()).select_from(Restaurant))


def test_seed_without_demo_loads_only_cafe_fausse(app):
    result = app.test_cli_runner().invoke(args=["seed"])

    assert result.exit_code == 0, result.output
    assert "demo catalogue" not in result.output
    with app.app_context():
        assert _restaurants() == 1


def test_seed_with_demo_loads_the_catalogue(app):
    result = app.test_cli_runner().invoke(args=["seed", "--demo"])

    assert result.exit_code == 0, result.output
    with app.app_context():
        assert _restaurants() == 100
