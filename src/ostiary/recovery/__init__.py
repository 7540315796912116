"""Account recovery and verification by email: password reset links, email verification (at
sign-up and when the email changes), and the administrator's resets (docs/account-recovery.md).

Above ``tokens`` (a reset regenerates the API key and ends the sessions) and ``webhooks`` (its
mail goes through the outbox, sealed when it carries a link)."""
