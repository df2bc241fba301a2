"""The REST API and web dashboard (the ``web`` extra: FastAPI and uvicorn)."""

from asyncz_like.web.app import create_app
from asyncz_like.web.security import Credentials, InsecureBindError, check_bind

__all__ = ["Credentials", "InsecureBindError", "check_bind", "create_app"]
