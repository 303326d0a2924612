"""Plumbing shared by every Seteli service: settings, database, outbox/inbox, NATS, app factory.

Nothing in here knows the domain."""
