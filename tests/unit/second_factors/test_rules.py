"""TOTP codes as RFC 6238 defines them, the window of one step either way, each code once
(NIST SP 800-63B 5.1.4.2), recovery codes, and when a factor may be removed."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pyotp

from ostiary.second_factors.rules import (
    RECOVERY_CODES,
    accepted_step,
    code_at,
    looks_like_totp,
    may_remove,
    new_recovery_codes,
    new_totp_secret,
    normalize,
    provisioning_uri,
    recovery_code_key,
    time_step,
)

# RFC 6238 appendix B: the SHA-1 seed is the ASCII string "12345678901234567890".
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()
NOW = datetime(2026, 12, 2, 2, 0, 15, tzinfo=UTC)


def test_codes_are_rfc_6238_appendix_b_truncated_to_six_digits() -> None:
    # Appendix B's 8-digit SHA-1 values; an app shows their last six digits.
    vectors = {59: "94287082", 1111111109: "07081804", 1234567890: "89005924"}
    for unix_time, eight_digits in vectors.items():
        moment = datetime.fromtimestamp(unix_time, UTC)
        assert code_at(RFC_SECRET, time_step(moment)) == eight_digits[-6:]


def test_what_an_app_shows_now_is_accepted() -> None:
    secret = new_totp_secret()
    shown = pyotp.TOTP(secret).at(NOW)
    assert accepted_step(secret, shown, NOW, None) == time_step(NOW)


def test_one_step_of_drift_either_way_is_accepted_two_are_not() -> None:
    secret = new_totp_secret()
    for drift, accepted in ((-1, True), (1, True), (-2, False), (2, False)):
        shown = pyotp.TOTP(secret).at(NOW + timedelta(seconds=30 * drift))
        step = accepted_step(secret, shown, NOW, None)
        assert (step == time_step(NOW) + drift) if accepted else step is None, drift


def test_a_code_is_accepted_once_and_an_earlier_one_never_after() -> None:
    secret = new_totp_secret()
    current = code_at(secret, time_step(NOW))
    step = accepted_step(secret, current, NOW, None)
    assert step is not None
    assert accepted_step(secret, current, NOW, step) is None  # the replay
    earlier = code_at(secret, time_step(NOW) - 1)
    assert accepted_step(secret, earlier, NOW, step) is None  # still in the window, but older
    later = code_at(secret, time_step(NOW) + 1)
    assert accepted_step(secret, later, NOW, step) == step + 1


def test_a_wrong_or_malformed_code_is_refused() -> None:
    secret = new_totp_secret()
    right = code_at(secret, time_step(NOW))
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for typed in (wrong, "", "12345", "1234567", "abcdef", right + "0"):
        assert accepted_step(secret, typed, NOW, None) is None, typed


def test_spaces_in_a_typed_code_are_ignored() -> None:
    secret = new_totp_secret()
    right = code_at(secret, time_step(NOW))
    assert accepted_step(secret, f" {right[:3]} {right[3:]} ", NOW, None) == time_step(NOW)


def test_seeds_are_160_bits_and_differ() -> None:
    seeds = {new_totp_secret() for _ in range(20)}
    assert len(seeds) == 20
    assert all(len(base64.b32decode(seed)) == 20 for seed in seeds)


def test_the_uri_is_what_authenticator_apps_scan() -> None:
    uri = provisioning_uri("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "ada@example.com")
    assert uri.startswith("otpauth://totp/Ostiary:ada%40example.com?")
    assert "secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP" in uri
    assert "issuer=Ostiary" in uri


def test_recovery_codes_are_ten_distinct_and_not_totp_shaped() -> None:
    codes = new_recovery_codes()
    assert len(codes) == RECOVERY_CODES == 10
    assert len(set(codes)) == 10
    assert not any(looks_like_totp(code) for code in codes)
    assert recovery_code_key(codes[0].upper()) == recovery_code_key(codes[0].replace("-", " "))
    assert normalize("AbC-dE f") == "abcdef"


def test_the_last_factor_may_not_go_when_one_is_required() -> None:
    assert may_remove({"totp"}, "totp", required=False)
    assert not may_remove({"totp"}, "totp", required=True)
    assert may_remove({"totp", "passkey"}, "totp", required=True)
