"""Clients that ship with Ostiary: registered by a migration, owned by no account.

The ``ostiary`` command line logs in with the device authorization grant (RFC 8628) as the public
client :data:`CLI_CLIENT_ID`, so every server already knows it and users see "Ostiary CLI" on
the approval page.
"""

from __future__ import annotations

CLI_CLIENT_ID = "6f0d2c5e-1c7a-4b8e-9d0a-0571a7c11001"
CLI_CLIENT_NAME = "Ostiary CLI"
