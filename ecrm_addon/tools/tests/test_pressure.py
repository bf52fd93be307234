# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import gc
import math
from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecrm_addon.tools.pressure import (
    EPOCH,
    Verdict,
    Verdicts,
    allocate,
    array_literal,
    cyclic_gc_paused,
    filter_batch,
    moment,
    pressure_capacity,
    rule_blocked_until,
    rule_capacity,
    strictest,
)
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


def test_capacity_counts_what_is_left_in_the_window():
    dates = [NOW - timedelta(days=5)]
    capacity, until = rule_capacity(dates, NOW, 2, 30, 0)
    assert capacity == 1
    # after that one message the window holds two: it frees when the older leaves
    assert until == NOW - timedelta(days=5) + timedelta(days=30)


def test_capacity_is_one_under_a_gap_and_zero_inside_it():
    assert rule_capacity([], NOW, 5, 30, 48) == (1, NOW + timedelta(hours=48))
    assert rule_capacity([NOW - timedelta(hours=1)], NOW, 5, 30, 48) == (0, NOW + timedelta(hours=47))


def test_allocate_sends_at_most_capacity_per_customer_in_order():
    until = NOW + timedelta(days=1)
    limits = {7: (1, until, 10, 3)}
    refused = allocate([(1, [7]), (2, [7]), (3, [8]), (4, [7])], limits)
    assert refused == {2: (until, 10, 3), 4: (until, 10, 3)}


def test_allocate_refused_record_does_not_use_other_customers_capacity():
    full, free = NOW + timedelta(days=2), NOW + timedelta(days=1)
    limits = {7: (0, full, 1, 1), 8: (1, free, 1, 2)}
    # record 1 reaches both customers: refused by 7, so 8 keeps its message for record 2
    assert allocate([(1, [7, 8]), (2, [8]), (3, [8])], limits) == {1: (full, 1, 1), 3: (free, 1, 2)}


def test_allocate_carries_sends_across_batches():
    until = NOW + timedelta(days=1)
    limits = {7: (2, until, 1, 1)}
    sent = {}
    assert allocate([(1, [7])], limits, sent) == {}
    assert allocate([(2, [7]), (3, [7])], limits, sent) == {3: (until, 1, 1)}
    assert sent == {7: 2}


@given(
    st.lists(st.integers(min_value=-2000, max_value=2000), max_size=12),
    st.integers(min_value=1, max_value=6),
    st.integers(min_value=1, max_value=60),
    st.integers(min_value=0, max_value=200),
)
def test_capacity_sends_are_allowed_and_the_next_is_not(offsets_hours, max_count, period_days, gap_hours):
    dates = [NOW - timedelta(hours=h) for h in offsets_hours]
    capacity, until = rule_capacity(dates, NOW, max_count, period_days, gap_hours)
    assert capacity <= max_count
    assert rule_blocked_until(dates + [NOW] * capacity, NOW, max_count, period_days, gap_hours) == until
    assert until is not None and until > NOW


def test_pressure_reaching_the_cap_exactly_is_allowed():
    assert pressure_capacity(2.0, 3.0, 1.0, 10)[0] == 1
    assert pressure_capacity(2.5, 3.0, 1.0, 10)[0] == 0
    assert pressure_capacity(2.0 + 1e-12, 3.0, 1.0, 10)[0] == 1, "rounding is no excess"


def test_pressure_frees_when_decayed_to_cap_minus_one_message():
    capacity, days = pressure_capacity(4.0, 3.0, 1.0, 10)
    assert (capacity, days) == (0, 10.0)
    capacity, days = pressure_capacity(1.0, 3.0, 1.0, 10)
    assert capacity == 2 and abs(days - 10 * math.log2(1.5)) < 1e-9


def test_pressure_message_heavier_than_cap_never_frees_weightless_never_held():
    assert pressure_capacity(0.0, 1.5, 2.0, 10) == (0, None)
    assert pressure_capacity(9.0, 1.0, 0.0, 10) == (None, 0.0)


def seconds(when):
    """A moment as the engine's statement returns it."""
    return (when - EPOCH).total_seconds()


def test_moment_reads_the_engine_seconds_to_the_microsecond():
    when = datetime(2026, 3, 1, 12, 0, 0, 123457)
    assert moment(seconds(when)) == when
    assert moment(math.inf) == datetime.max, "never frees by itself"


def test_array_literal_quotes_every_value_and_escapes_quotes_and_backslashes():
    assert array_literal(["a@x", "b@x"]) == '{"a@x","b@x"}'
    assert array_literal([3, 1]) == '{"3","1"}'
    assert array_literal([]) == "{}"
    assert array_literal(['"quoted"@x', "back\\slash@x", "a,b{c}@x"]) == (
        '{"\\"quoted\\"@x","back\\\\slash@x","a,b{c}@x"}'
    )


def test_cyclic_gc_paused_holds_the_collector_then_puts_it_back():
    assert gc.isenabled()
    with pytest.raises(ValueError, match="bad batch"), cyclic_gc_paused():
        assert not gc.isenabled()
        with cyclic_gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled(), "an inner holder leaves it to the outer one"
        raise ValueError("bad batch")
    assert gc.isenabled(), "enabled again, even after an error"
    gc.disable()
    try:
        with cyclic_gc_paused():
            pass
        assert not gc.isenabled(), "disabled by someone else before: left disabled"
    finally:
        gc.enable()


def test_verdicts_build_each_verdict_from_rows():
    until, later = NOW + timedelta(days=1), NOW + timedelta(days=3)
    keys = ["a@x", "b@x", "c@x", "d@x"]
    rules = [(10, 3), (20, 4), (0, None)]
    rows = [
        (1, 7, 0, seconds(until), 1),
        (1, 5, 0, seconds(later), 2),
        (2, 8, 2, seconds(later), 1),
        (3, 9, None, None, None),
        (4, 6, 1, seconds(until), 3),
    ]
    verdicts = Verdicts(rows, keys, rules, lambda: 99)
    assert verdicts["a@x"] == Verdict((5, 7), 4, later, {7: (0, until, 10, 3), 5: (0, later, 20, 4)})
    assert verdicts["b@x"] == Verdict((8,), False, False, {8: (2, later, 10, 3)})
    assert verdicts["c@x"] == Verdict((9,), False, False, {})
    assert verdicts["d@x"].limits == {6: (1, until, 0, 99)}, "the customer's own limit named by the shipped rule"
    assert "e@x" not in verdicts and verdicts.get("e@x") is None
    assert sorted(verdicts) == ["a@x", "b@x", "c@x", "d@x"]
    assert verdicts.full == {5, 7}
    assert dict(verdicts.limits) == {
        7: (0, until, 10, 3),
        5: (0, later, 20, 4),
        8: (2, later, 10, 3),
        6: (1, until, 0, 99),
    }, "no limit for the customer no rule applies to"
    assert 9 not in verdicts.limits and len(verdicts.limits) == 4
    partners, refused = filter_batch({1: ["c@x"], 2: ["e@x"], 3: ["a@x"], 4: ["b@x", "c@x", None]}, verdicts)
    assert partners == {1: (9,), 3: (5, 7), 4: (8, 9)}
    assert refused == {3: (later, 20, 4)}, "the strictest of the record's full customers"


def test_verdicts_count_a_customer_once_per_key():
    """Two contacts of one customer sharing an address: one customer for the key."""
    rows = [(1, 7, 0, seconds(NOW), 1), (1, 7, 0, seconds(NOW), 1), (1, 5, None, None, None)]
    verdicts = Verdicts(rows, ["a@x"], [(10, 3)])
    assert verdicts.partner_ids("a@x") == (5, 7)
    assert Verdicts(rows[:2], ["a@x"], [(10, 3)]).partner_ids("a@x") == (7,)


@given(
    st.lists(
        st.lists(st.sampled_from(["a", "b", "c", "d", "e", "f", "g", "unknown"]), max_size=3),
        max_size=12,
    ),
    st.dictionaries(st.sampled_from(["a", "b", "c", "d", "e", "f", "g"]), st.sets(st.integers(1, 6), min_size=1)),
    st.dictionaries(st.integers(min_value=1, max_value=6), st.integers(min_value=0, max_value=3)),
    st.booleans(),
)
def test_filter_batch_equals_allocate(records, customers_of, capacities, carried):
    """Deciding in one pass the records whose order cannot matter changes no
    decision: the same customers and refusals as ``allocate`` on every record."""
    limits = {pid: (capacity, NOW + timedelta(days=pid), pid % 3, 100 + pid) for pid, capacity in capacities.items()}
    keys = sorted(customers_of)
    rows = [
        (keys.index(key) + 1, pid, *((limit[0], seconds(limit[1]), pid) if (limit := limits.get(pid)) else (None,) * 3))
        for key, pids in customers_of.items()
        for pid in sorted(pids)
    ]
    verdicts = Verdicts(rows, keys, [(pid % 3, 100 + pid) for pid in range(1, 7)])
    keys_by_res_id = dict(enumerate(records, start=1))
    expected_partners = {
        res_id: tuple(sorted(found))
        for res_id, keys in keys_by_res_id.items()
        if (found := {pid for key in keys for pid in customers_of.get(key, ())})
    }
    sent = {1: 1, 2: 2} if carried else None
    expected = allocate(list(expected_partners.items()), limits, dict(sent) if carried else None)
    partners, refused = filter_batch(keys_by_res_id, verdicts, sent)
    assert partners == expected_partners
    assert list(partners) == list(expected_partners), "in the batch's order"
    assert refused == expected
