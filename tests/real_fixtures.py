"""Where the real provider recordings (the codecs' ground truth) are: ``../shared/fixtures/real`` beside the
checkout, as the project's brief lays it out, or wherever LLMREPLAY_REAL_FIXTURES points."""

from __future__ import annotations

import os
from pathlib import Path

_CANDIDATES = (
    os.environ.get("LLMREPLAY_REAL_FIXTURES", ""),
    str(Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "real"),
    "/work/shared/fixtures/real",
)

REAL: Path = next((Path(c) for c in _CANDIDATES if c and Path(c).is_dir()), Path(_CANDIDATES[1]))
