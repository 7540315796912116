"""The rules of apps decided without storage: regions, stacks, owner-only actions."""

from __future__ import annotations

import pytest

from ostiary.apps.catalog import DEFAULT_REGION, DEFAULT_STACK
from ostiary.apps.errors import OwnerOnly
from ostiary.apps.models import App
from ostiary.apps.rules import checked_region, checked_stack, require_owner
from ostiary.errors import InvalidParams


def test_regions_and_stacks_default_and_refuse_unknown_names() -> None:
    assert checked_region(None) == DEFAULT_REGION
    assert checked_region("eu") == "eu"
    assert checked_stack(None) == DEFAULT_STACK
    with pytest.raises(InvalidParams) as region:
        checked_region("mars")
    assert region.value.field == "region"
    with pytest.raises(InvalidParams) as stack:
        checked_stack("cedar-14")
    assert stack.value.field == "stack"


def test_only_the_owner_may_take_an_owner_action() -> None:
    app = App(name="demo", owner_id="owner")
    require_owner(app, "owner", "delete it")
    with pytest.raises(OwnerOnly) as refused:
        require_owner(app, "collaborator", "delete it")
    assert refused.value.message == "Only the app's owner can delete it."
