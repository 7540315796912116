"""Ostiary: a self-hostable API identity service, wire-compatible with Heroku's Platform API v3."""

__version__ = "0.1.0"
