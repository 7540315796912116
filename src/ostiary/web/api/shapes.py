"""Small response shapes shared by several resources, as in Heroku's schema."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from ostiary.text import first_unstorable

Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]


class Body(BaseModel):
    """Base of request bodies: unknown fields are ignored, as Heroku's API does; no string may
    hold a NUL or an unpaired surrogate (``web.json_body``), which no column or response carries."""

    model_config = ConfigDict(extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _storable_text(cls, data: Any) -> Any:
        field = first_unstorable(data)
        if field is not None:
            raise PydanticCustomError(
                "unstorable_text",
                "{field} holds a NUL or an unpaired surrogate character",
                {"field": field},
            )
        return data


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
