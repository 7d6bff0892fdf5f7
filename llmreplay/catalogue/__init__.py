"""The model catalogue: each known family's context window, maximum output, reasoning and prices, shipped as
data (``models.toml``) and overridable in the settings file (``[models.families]``); see docs/models.md."""

from llmreplay.catalogue.catalogue import UNKNOWN, Catalogue, Family, shipped
from llmreplay.catalogue.spec import FamilySpec

__all__ = ["UNKNOWN", "Catalogue", "Family", "FamilySpec", "shipped"]
