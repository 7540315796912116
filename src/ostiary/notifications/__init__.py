"""Mail to an account about what was done with it (issue 16, "Notifications"), driven by the
activity log's sealed events: docs/notifications.md."""
