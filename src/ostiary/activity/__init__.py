"""The activity log: the events an account can read, their hash chain, export and retention."""
