"""Account webhooks: subscriptions, signed deliveries with retries, and their outcomes."""
