"""Small response shapes shared by several resources, as in Heroku's schema."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]


class Body(BaseModel):
    """Base of request bodies: unknown fields are ignored, as Heroku's API does."""

    model_config = ConfigDict(extra="ignore")


class IdName(BaseModel):
    """An ``{id, name}`` reference."""

    id: str
    name: str


class IdEmail(BaseModel):
    """An ``{id, email}`` reference to an account."""

    id: str
    email: str


class IdOnly(BaseModel):
    """An ``{id}`` reference."""

    id: str
