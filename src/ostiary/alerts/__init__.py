"""Anomaly alerts: what looks wrong about a credential's use, told to its owner."""
