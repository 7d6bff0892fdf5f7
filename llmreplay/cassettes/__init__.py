"""Cassettes: recorded exchanges with per-event timing, stored as msgpack."""
