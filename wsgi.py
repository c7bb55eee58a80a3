"""Entry point for gunicorn (`gunicorn wsgi:app`) and the Flask CLI (`flask --app wsgi ...`)."""

from __future__ import annotations

from dotenv import load_dotenv

load_dotenv()

from api import create_app  # noqa: E402  (the environment must be loaded first)

app = create_app()
