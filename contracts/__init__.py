"""Schemas that cross a boundary between Seteli's parts: event envelopes and payloads,
NATS subjects and streams, and the principal token. Pydantic only; imports no part."""
