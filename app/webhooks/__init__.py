"""Webhooks: subscriptions, the outbox and signed deliveries with retries."""
