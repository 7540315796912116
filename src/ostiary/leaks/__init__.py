"""Leak response: tokens reported exposed (by GitHub's secret scanning or by anyone) are revoked
and their owners told; ``ostiary scan`` finds tokens in files and git history."""
