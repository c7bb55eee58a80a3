"""The extension instances, created unbound here and bound to an app in `create_app`."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, has_app_context
from flask_cors import CORS
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter as _Limiter
from flask_limiter.util import get_remote_address
from flask_smorest import Api as SmorestApi
from flask_sqlalchemy import SQLAlchemy

from api.db import Base, Session
from api.errors import http_exception_response
from api.schemas import ErrorSchema


class Api(SmorestApi):
    """flask-smorest's Api, answering and documenting errors in our envelope."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: Any) -> Any:
        return http_exception_response(error)


class Limiter(_Limiter):
    """flask-limiter's Limiter, with its on/off switch and storage kept per app.

    Upstream keeps `enabled` and the storage on the (module-level) instance, so the last
    `init_app` in a process would win for every app: a test app built with limits off would
    silently switch them off for another one, or point it at another storage. Here those
    attributes live in `app.extensions` and are read from the current app.
    """

    _PER_APP = ("enabled", "_storage", "_limiter", "_storage_dead", "_fallback_limiter", "_key_prefix", "_strategy")
    _STATE_KEY = "seatkeeper_limiter_state"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        object.__setattr__(self, "_initialising", None)
        object.__setattr__(self, "_unbound_state", {})
        super().__init__(*args, **kwargs)

    def init_app(self, app: Flask) -> None:
        object.__setattr__(self, "_initialising", app)
        try:
            super().init_app(app)
        finally:
            object.__setattr__(self, "_initialising", None)

    def _state(self) -> dict[str, Any]:
        app = self._initialising or (current_app._get_current_object() if has_app_context() else None)
        if app is None:
            return self._unbound_state
        return app.extensions.setdefault(self._STATE_KEY, {})

    def __getattribute__(self, name: str) -> Any:
        if name in type(self)._PER_APP:
            state = self._state()
            return state[name] if name in state else self._unbound_state.get(name)
        return super().__getattribute__(name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in type(self)._PER_APP:
            self._state()[name] = value
        else:
            super().__setattr__(name, value)


db = SQLAlchemy(model_class=Base, session_options={"class_": Session})
api = Api()
jwt = JWTManager()
limiter = Limiter(key_func=get_remote_address, headers_enabled=True)
cors = CORS()
