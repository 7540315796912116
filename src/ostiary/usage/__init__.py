"""Usage per credential: requests counted in memory, flushed in batches, read as hourly buckets."""
