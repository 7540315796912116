"""Token policies: the server's lifetime rules made stricter by each account's own
(docs/token-lifecycle.md, "Policies")."""
