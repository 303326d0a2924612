"""The registry's use cases, one module per resource (mirroring ``api/``): the only place that
commits. Every state change writes its audit entry and its event (outbox) in the same
transaction, so a refused request leaves nothing. Reads are use cases too: they decide, through
``access``, what the caller may see."""
