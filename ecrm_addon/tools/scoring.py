# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""RFM score bins and pressure decay, as the design contract states them.

The SQL engine computes the same figures set-based; these functions are the
reference the tests hold it to, and serve callers that have a few values.
"""

import math
from bisect import bisect_left


def tie_aware_scores(values):
    """Score each value 1..5 among ``values`` (higher is better).

    ``score = 1 + floor(5 * worse / n)`` where ``worse`` is the number of values
    strictly lower: equal values always get equal scores, and distinct values
    give exact quintiles. Returns a list aligned with ``values``.
    """
    n = len(values)
    ordered = sorted(values)
    return [1 + (5 * bisect_left(ordered, value)) // n for value in values]


def decayed_weight(weight, age_days, half_life_days):
    """The weight of a touch ``age_days`` old: ``weight * 0.5 ** (age / half_life)``."""
    if half_life_days <= 0:
        raise ValueError("half_life_days must be positive")
    return weight * math.pow(0.5, max(age_days, 0.0) / half_life_days)
