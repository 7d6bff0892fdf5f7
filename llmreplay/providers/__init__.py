"""One codec per provider API. Codecs do no I/O and never import aiohttp."""
