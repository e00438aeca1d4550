"""Answer times kept as a histogram, so a median needs no scan of the answers (pure).

Bucket ``k`` holds durations from ``FIRST_MS * RATIO**(k - 1)`` up to
``FIRST_MS * RATIO**k`` milliseconds (bucket 0: below ``FIRST_MS``; the last
bucket: everything from its lower edge up). The median is interpolated inside its
bucket on a log scale, so it is within a factor ``RATIO`` (12%) of the exact one.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

FIRST_MS = 100.0
RATIO = 1.12
BUCKETS = 100  # the last one starts near 7.5 hours


def bucket(duration_ms: int) -> int:
    """The bucket of one duration."""
    if duration_ms < FIRST_MS:
        return 0
    return min(int(math.log(duration_ms / FIRST_MS) / math.log(RATIO)) + 1, BUCKETS - 1)


def lower_edge(k: int) -> float:
    """Where bucket ``k`` starts, in milliseconds."""
    return 0.0 if k == 0 else FIRST_MS * RATIO ** (k - 1)


def add(histogram: dict[str, int], durations: list[int]) -> dict[str, int]:
    """``histogram`` with ``durations`` counted in (a new dict; keys are bucket numbers)."""
    out = dict(histogram)
    for duration in durations:
        key = str(bucket(duration))
        out[key] = out.get(key, 0) + 1
    return out


def median_ms(histogram: Mapping[str, int]) -> int | None:
    """The median duration the histogram implies, in whole ms; None when empty."""
    counts = sorted((int(k), n) for k, n in histogram.items() if n > 0)
    total = sum(n for _, n in counts)
    if total == 0:
        return None
    half, seen = total / 2, 0
    for k, n in counts:
        if seen + n >= half:
            inside = (half - seen) / n
            if k == 0:
                return round(FIRST_MS * inside)
            return round(lower_edge(k) * RATIO ** inside)
        seen += n
    return round(lower_edge(counts[-1][0]))
