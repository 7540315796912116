"""Benchmarks: scripts that start a real server and print figures."""
