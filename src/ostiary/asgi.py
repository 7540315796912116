"""The ASGI entry point uvicorn imports in each worker: settings come from the environment."""

from __future__ import annotations

from fastapi import FastAPI

from ostiary.app import create_app
from ostiary.config import load_settings


def app_from_environment() -> FastAPI:
    """Build the application from ``OSTIARY_*`` settings (a uvicorn ``--factory``)."""
    return create_app(load_settings())
