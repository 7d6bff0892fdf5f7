"""Synthetic content: text pools, the JSON-Schema faker, token estimates, embeddings."""
