"""The extension instances, created unbound here and bound to an app in `create_app`."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_cors import CORS
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_smorest import Api as SmorestApi
from flask_smorest import Blueprint as SmorestBlueprint
from flask_sqlalchemy import SQLAlchemy
from webargs.flaskparser import FlaskParser

from api.db import Base, Session
from api.errors import http_exception_response
from api.schemas import ErrorSchema


class Api(SmorestApi):
    """flask-smorest's Api, answering and documenting errors in our envelope."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: Any) -> Any:
        return http_exception_response(error)


class SchemaReusingParser(FlaskParser):
    """webargs' parser, building each argument schema once instead of once per request.

    `@blp.arguments(SomeSchema)` hands webargs the class, and webargs instantiates it on every
    request (0.15-0.5 ms for our schemas, docs/benchmarks.md). Our schemas keep no per-call state,
    so one instance per class serves every request, as an instance passed to `@blp.arguments` would.
    """

    def __init__(self) -> None:
        super().__init__()
        self._instances: dict[type[ma.Schema], ma.Schema] = {}

    def _get_schema(self, argmap: Any, req: Any) -> ma.Schema:
        if isinstance(argmap, type) and issubclass(argmap, ma.Schema):
            schema = self._instances.get(argmap)
            if schema is None:
                schema = self._instances.setdefault(argmap, argmap())
            return schema
        return super()._get_schema(argmap, req)


# flask-smorest's documented hook (`Blueprint.ARGUMENTS_PARSER`), set on its class so that every
# blueprint uses it; this module is imported before any route module decorates a view.
SmorestBlueprint.ARGUMENTS_PARSER = SchemaReusingParser()

db = SQLAlchemy(model_class=Base, session_options={"class_": Session})
api = Api()
jwt = JWTManager()
# One limiter per process, as flask-limiter designs it: `init_app` configures it from the app
# (storage, on/off, key prefix). Production runs one app per process; tests see tests/conftest.py.
limiter = Limiter(key_func=get_remote_address, headers_enabled=True)
cors = CORS()
