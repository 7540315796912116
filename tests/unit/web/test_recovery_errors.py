"""The errors of recovery and the password policy in the API's shape: a refused password is
422 ``invalid_params`` naming the field and the reason, a spent link 422 naming the token, too
many mails 429 with Retry-After, a disabled account 401."""

from __future__ import annotations

import json

from ostiary.accounts.errors import (
    DISABLED_MESSAGE,
    AccountDisabled,
    LinkNotUsable,
    TooManyLinks,
    WeakPassword,
)
from ostiary.accounts.rules import password_problem
from ostiary.web.errors import rendered


def test_a_refused_password_is_422_invalid_params_with_the_reason() -> None:
    reason = password_problem("1234567890qwerty")
    assert reason is not None
    status, body, _ = rendered(WeakPassword(reason))
    assert status == 422
    assert json.loads(body) == {"id": "invalid_params", "message": reason, "field": "password"}


def test_the_other_recovery_errors() -> None:
    assert rendered(LinkNotUsable())[0] == 422
    status, _, headers = rendered(TooManyLinks())
    assert (status, headers) == (429, {"Retry-After": "3600"})
    status, body, _ = rendered(AccountDisabled())
    assert status == 401
    assert json.loads(body)["message"] == DISABLED_MESSAGE
