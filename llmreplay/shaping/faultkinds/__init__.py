"""Fault kinds, one module each (Toxiproxy's toxics are the model).

A kind declares, once, its name, spelling, description, when it acts and what it
does; ``registry.py`` lists the built-in kinds explicitly. The outcome grammar,
``GET /api/failure-modes``, the dashboard's list, the docs table and both fault
stages are derived from that list: a new kind is a new module plus one line there.
"""
