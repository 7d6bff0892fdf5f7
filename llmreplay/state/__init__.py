"""Shared state: what several processes or replicas must agree on.

:class:`~llmreplay.state.base.State` is the contract; :mod:`memory` keeps it in
this process (the default); a Redis-backed implementation shares it between
workers and replicas. Everything here is awaited by the app *before* the shaper
runs, so shaper stages stay free of I/O.
"""
