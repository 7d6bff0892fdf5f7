"""Rate-limit strategies: pure algorithms over an injected clock (``now`` in seconds)."""
