"""Delivery of the event feed to the systems that use segments: signed webhooks
(Standard Webhooks) and a NATS JetStream stream. Both are readers of the feed,
which is the outbox: nothing here runs inside a write."""
