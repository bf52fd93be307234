from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from ecrm_addon.tools.pressure import rule_blocked_until, strictest
from ecrm_addon.tools.scoring import decayed_weight

NOW = datetime(2026, 3, 1, 12, 0, 0)


def test_count_below_max_allows():
    dates = [NOW - timedelta(days=d) for d in (1, 2, 3)]
    assert rule_blocked_until(dates, NOW, 4, 30, 0) is None


def test_count_at_max_blocks_until_oldest_counted_leaves_window():
    dates = [NOW - timedelta(days=d) for d in (1, 2, 3, 4)]
    assert rule_blocked_until(dates, NOW, 4, 30, 0) == NOW - timedelta(days=4) + timedelta(days=30)


def test_touch_exactly_period_old_no_longer_counts():
    dates = [NOW - timedelta(days=30)]
    assert rule_blocked_until(dates, NOW, 1, 30, 0) is None
    assert rule_blocked_until([NOW - timedelta(days=30, seconds=-1)], NOW, 1, 30, 0) is not None


def test_gap_minus_one_second_blocks_and_exact_gap_allows():
    assert rule_blocked_until([NOW - timedelta(hours=48, seconds=-1)], NOW, 10, 30, 48) == NOW + timedelta(seconds=1)
    assert rule_blocked_until([NOW - timedelta(hours=48)], NOW, 10, 30, 48) is None


def test_strictest_is_the_one_blocking_longest_then_lowest_sequence():
    later = NOW + timedelta(days=3)
    assert strictest([(NOW, 1, 1), (later, 5, 2), (None, 0, 3)]) == (later, 5, 2)
    assert strictest([(later, 5, 2), (later, 1, 9)]) == (later, 1, 9)
    assert strictest([(None, 1, 1)]) is None


@given(
    st.lists(st.integers(min_value=-2000, max_value=2000), max_size=20),
    st.integers(min_value=1, max_value=6),
    st.integers(min_value=1, max_value=60),
    st.integers(min_value=0, max_value=200),
)
def test_blocked_until_frees_the_rule(offsets_hours, max_count, period_days, gap_hours):
    dates = [NOW - timedelta(hours=h) for h in offsets_hours]
    until = rule_blocked_until(dates, NOW, max_count, period_days, gap_hours)
    if until is not None:
        assert until > NOW
        # at the moment it frees, the rule allows a new message
        assert rule_blocked_until(dates, until, max_count, period_days, gap_hours) is None


def test_decay_halves_every_half_life():
    assert decayed_weight(2.0, 30, 30) == 1.0
    assert decayed_weight(2.0, -5, 30) == 2.0
