"""``ostiary.models`` names every model, so what imports it (Alembic's env.py, the migration
check) sees the whole schema: no table is left out because its module happened not to be
imported."""

from __future__ import annotations

import importlib
import pkgutil

import ostiary
import ostiary.models
from ostiary.db import Base

# Entry points that run something when imported, and migration scripts (which define no model).
NOT_IMPORTED = ("ostiary.__main__", "ostiary.migrations.")


def _import_every_module() -> None:
    for module in pkgutil.walk_packages(ostiary.__path__, "ostiary."):
        if not module.name.startswith(NOT_IMPORTED):
            importlib.import_module(module.name)


def test_every_mapped_table_is_named_in_ostiary_models() -> None:
    _import_every_module()
    named = {getattr(ostiary.models, name) for name in ostiary.models.__all__}
    tables_named = {model.__table__.name for model in named}
    assert tables_named == set(Base.metadata.tables)


def test_every_name_in_ostiary_models_is_a_mapped_model() -> None:
    mapped = {mapper.class_ for mapper in Base.registry.mappers}
    for name in ostiary.models.__all__:
        assert getattr(ostiary.models, name) in mapped, name
