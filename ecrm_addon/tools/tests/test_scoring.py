# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecrm_addon.tools.scoring import decayed_weight, tie_aware_scores


def test_distinct_values_give_exact_quintiles():
    assert tie_aware_scores(list(range(10))) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_ties_share_the_lowest_rank_of_their_group():
    # three customers bought once, one twice: the three are worse than nobody
    assert tie_aware_scores([1, 1, 1, 2]) == [1, 1, 1, 4]


def test_single_customer_scores_one():
    assert tie_aware_scores([42]) == [1]


@given(st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=200))
def test_equal_values_equal_scores_and_order_kept(values):
    scores = tie_aware_scores(values)
    by_value = {}
    for value, score in zip(values, scores, strict=True):
        assert 1 <= score <= 5
        assert by_value.setdefault(value, score) == score
    pairs = sorted(by_value.items())
    assert [s for _v, s in pairs] == sorted(s for _v, s in pairs)


def test_decay_halves_at_half_life():
    assert decayed_weight(4.0, 30, 30) == pytest.approx(2.0)
    assert decayed_weight(4.0, 0, 30) == pytest.approx(4.0)


def test_decay_rejects_non_positive_half_life():
    with pytest.raises(ValueError):
        decayed_weight(1.0, 3, 0)
