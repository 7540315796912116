"""App names: Heroku's rule, and generated names like ``sushi-pants-12345``."""

from __future__ import annotations

import re
import secrets

APP_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,28}[a-z0-9]$")

_ADJECTIVES = (
    "amber",
    "brave",
    "calm",
    "dapper",
    "eager",
    "fuzzy",
    "gentle",
    "happy",
    "icy",
    "jolly",
    "keen",
    "lively",
    "mellow",
    "nimble",
    "polar",
    "quiet",
    "rapid",
    "shiny",
    "tidy",
    "vast",
)
_NOUNS = (
    "anchor",
    "badger",
    "canyon",
    "dune",
    "ember",
    "falcon",
    "garden",
    "harbor",
    "island",
    "juniper",
    "kettle",
    "lagoon",
    "meadow",
    "nebula",
    "orchard",
    "pebble",
    "quartz",
    "river",
    "summit",
    "tundra",
)


def is_valid_app_name(name: str) -> bool:
    """Whether a name follows Heroku's app name rule."""
    return APP_NAME_PATTERN.fullmatch(name) is not None


def generate_name() -> str:
    """A random readable name that follows the rule; the caller retries on a collision."""
    return (
        f"{secrets.choice(_ADJECTIVES)}-{secrets.choice(_NOUNS)}-{secrets.randbelow(90000) + 10000}"
    )
