"""The extension instances, created unbound here and bound to an app in `create_app`."""

from __future__ import annotations

from typing import Any

from flask_cors import CORS
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
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


db = SQLAlchemy(model_class=Base, session_options={"class_": Session})
api = Api()
jwt = JWTManager()
# One limiter per process, as flask-limiter designs it: `init_app` configures it from the app
# (storage, on/off, key prefix). Production runs one app per process; tests see tests/conftest.py.
limiter = Limiter(key_func=get_remote_address, headers_enabled=True)
cors = CORS()
