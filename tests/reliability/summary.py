"""The reliability suite's figures, gathered by its tests and printed at the end of the run."""

from __future__ import annotations

from collections import Counter

FIGURES: Counter[str] = Counter()
