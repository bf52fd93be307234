# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Contact-pressure decisions on a handful of values, without the database.

The engine (``ecrm.pressure.rule._ecrm_check``) makes the same decisions in one
set-based query; these functions are the reference the tests hold it to and
state the window edges once:

* a touch counts in the rolling window while it is *strictly* younger than
  ``period_days`` (a touch exactly ``period_days`` old no longer counts);
* the minimum gap holds while the last touch is *strictly* younger than
  ``min_interval_hours``;
* a rule blocks when the count already reached ``max_count`` or the gap holds;
  it blocks until the moment both conditions are gone;
* of several blocking rules, the strictest is the one that blocks longest
  (then the lowest sequence);
* within one mailing batch the messages the batch itself sends count: a rule
  allows ``rule_capacity`` more messages now, and a customer reached by
  several records of the batch gets at most that many (``allocate``);
* a cap on the weighted pressure allows a message while the pressure plus its
  weight stays at or below the cap (reaching it exactly is allowed,
  ``pressure_capacity``).
"""

import gc
import math
from collections import namedtuple
from collections.abc import Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta

# What the engine says about one recipient key: the commercial partners it
# resolves to (a tuple); the strictest rule blocking it now (id and the moment it frees),
# both False when nothing blocks; and ``limits``: ``{partner_id: (capacity,
# blocked_until, sequence, rule_id)}``, how many more messages each customer
# with a rule may receive now and the strictest rule once they are sent
# (``allocate`` shares them among the records of a batch).
Verdict = namedtuple("Verdict", ["partner_ids", "rule_id", "blocked_until", "limits"])

# Touches older than this many half-lives weigh less than 0.1% of their
# weight: the weighted pressure leaves them out so that it reads an index range.
PRESSURE_HORIZON_HALF_LIVES = 10


def rule_blocked_until(dates, now, max_count, period_days, min_interval_hours):
    """When a rule stops blocking a new message, or ``None`` if it allows it now.

    ``dates`` are the datetimes of the customer's outbound touches the rule
    counts (its category, its channel), in any order.
    """
    window_start = now - timedelta(days=period_days)
    in_window = sorted((d for d in dates if d > window_start), reverse=True)
    until = None
    if max_count and len(in_window) >= max_count:
        # The window frees when the max_count-th most recent touch leaves it.
        until = in_window[max_count - 1] + timedelta(days=period_days)
    if min_interval_hours and dates:
        last = max(dates)
        gap_end = last + timedelta(hours=min_interval_hours)
        if gap_end > now:
            until = max(until, gap_end) if until else gap_end
    return until


def pressure_capacity(pressure, cap, weight, half_life_days, epsilon=1e-9):
    """How many messages of ``weight`` a pressure cap allows now, and in how many
    days it frees once they are sent: ``(capacity, days)``; ``days`` is None
    when it never frees (one message alone exceeds the cap), 0 when it frees at once.

    A message is allowed while ``pressure + weight <= cap`` (``epsilon`` of
    rounding is no excess); the pressure halves every ``half_life_days``, so it
    frees when it decays to ``cap - weight``. Messages that weigh nothing are
    never held (capacity None).
    """
    if weight <= 0:
        return None, 0.0
    capacity = max(math.floor((cap - pressure) / weight + epsilon), 0)
    if cap <= weight:
        return capacity, None
    after = pressure + capacity * weight
    return capacity, max(half_life_days * math.log2(after / (cap - weight)), 0.0)


def strictest(verdicts):
    """The verdict that blocks longest among ``(blocked_until, sequence, rule_id)``.

    Verdicts whose ``blocked_until`` is ``None`` do not block. Returns ``None``
    when none blocks.
    """
    blocking = [v for v in verdicts if v[0] is not None]
    if not blocking:
        return None
    return min(blocking, key=lambda v: (-v[0].timestamp(), v[1], v[2]))


def rule_capacity(dates, now, max_count, period_days, min_interval_hours):
    """How many more messages a rule allows now, and when it frees once they are sent.

    Returns ``(capacity, blocked_until)``: ``capacity`` messages sent at ``now``
    are allowed one after the other (0: the rule blocks already), and the rule
    then blocks until ``blocked_until`` (the moment it frees after those sends).
    """
    dates = list(dates)
    capacity = 0
    while rule_blocked_until(dates, now, max_count, period_days, min_interval_hours) is None:
        capacity += 1
        dates.append(now)
    return capacity, rule_blocked_until(dates, now, max_count, period_days, min_interval_hours)


def allocate(records, limits, sent=None):
    """Which records of a batch a customer's limits still allow, in batch order.

    ``records``: ``[(res_id, [partner_id, ...])]`` in sending order;
    ``limits``: ``{partner_id: (capacity, blocked_until, sequence, rule_id)}``,
    the messages each customer may still receive now and the strictest rule
    once they are sent (customers without a rule are absent: no limit);
    ``sent``: ``{partner_id: messages already allowed}`` earlier in the same run,
    updated in place. A record is allowed when none of its customers reached
    their capacity; it then counts for each of them. Returns ``{res_id:
    (blocked_until, sequence, rule_id)}`` for the refused records, naming the
    strictest rule among their full customers.
    """
    sent = {} if sent is None else sent
    refused = {}
    for res_id, partner_ids in records:
        full = [limits[pid][1:] for pid in partner_ids if pid in limits and sent.get(pid, 0) >= limits[pid][0]]
        if full:
            refused[res_id] = full[0] if len(full) == 1 else strictest(full)
            continue
        for pid in set(partner_ids):
            sent[pid] = sent.get(pid, 0) + 1
    return refused


EPOCH = datetime(1970, 1, 1)


def moment(seconds):
    """The (naive, UTC) datetime ``seconds`` after the epoch, as the engine
    gives when a rule frees; infinity: ``datetime.max`` (never by itself)."""
    return datetime.max if seconds == math.inf else EPOCH + timedelta(seconds=seconds)


def array_literal(values):
    """PostgreSQL's text form of an array of ``values`` (texts or numbers),
    passed as one parameter (``%s::varchar[]``, ``%s::int[]``).

    One string to send and for PostgreSQL to parse: a Python list is adapted
    value by value into an ``ARRAY[...]`` expression, which the driver builds
    and the server parses about three times slower at 100k keys. Every value
    is quoted; a value holding a quote or a backslash is escaped.
    """
    values = list(values)
    joined = '","'.join(map(str, values))
    if "\\" in joined or joined.count('"') != 2 * max(len(values) - 1, 0):
        joined = '","'.join(str(value).replace("\\", "\\\\").replace('"', '\\"') for value in values)
    return f'{{"{joined}"}}' if values else "{}"


@contextmanager
def cyclic_gc_paused():
    """Python's cyclic garbage collector held while a batch's rows and
    mappings are built, then running again as before.

    A batch of 100k recipients builds hundreds of thousands of tuples and
    dicts, none of them in a reference cycle (reference counting frees them
    all). Without the pause the collector passes over them again and again,
    and the survivors start full collections that walk the worker's whole
    heap (its registry, its caches): measured at up to 15% of a
    100k-recipient filter. A nested holder finds the collector disabled and
    leaves it so; it is enabled again only by the holder that disabled it.
    The switch is the process's: in a threaded server, another thread runs
    without the cyclic collector meanwhile, and a batch of one thread may
    find the pause ended by another's. Only speed depends on it, never a
    result (no object is freed later than by reference counting).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class Limits(Mapping):
    """``{partner_id: (capacity, blocked_until, sequence, rule_id)}`` for the
    customers a rule applies to, over the engine's rows, each tuple built
    when it is read (most customers of a big batch are never read: only
    those with no capacity left, or reached several times).

    ``raw``: ``{partner_id: row}``, the engine's row of the customer
    (``Verdicts``; capacity None: no rule applies); ``rules``: ``[(sequence,
    rule_id), ...]`` by rank (from 1), rule_id None for the customer's own
    limit, named by ``personal_rule_id()`` (called once, when such a limit is
    read).
    """

    def __init__(self, raw, rules, personal_rule_id=None):
        self._raw, self._rules, self._personal_rule_id = raw, list(rules), personal_rule_id

    def rule(self, rank):
        """``(sequence, rule_id)`` of the limit of ``rank``."""
        sequence, rule_id = self._rules[rank - 1]
        if rule_id is None:
            rule_id = self._personal_rule_id()
            self._rules[rank - 1] = (sequence, rule_id)
        return sequence, rule_id

    def __getitem__(self, partner_id):
        _key, _partner_id, capacity, seconds, rank = self._raw[partner_id]
        if capacity is None:
            raise KeyError(partner_id)
        return (capacity, moment(seconds), *self.rule(rank))

    def __contains__(self, partner_id):
        row = self._raw.get(partner_id)
        return row is not None and row[2] is not None

    def __iter__(self):
        return (partner_id for partner_id, row in self._raw.items() if row[2] is not None)

    def __len__(self):
        return sum(1 for _partner_id in self)


class Verdicts(Mapping):
    """``{key: Verdict}`` of one check, each ``Verdict`` built when it is read.

    ``rows``: ``(key, partner_id, capacity, blocked_until, rule)`` as the
    engine's statement returns them: ``key`` the key's position (from 1) in
    ``keys``, ``blocked_until`` in seconds since the epoch (``moment``),
    ``rule`` its position (from 1) in ``rules``, ``[(sequence, rule_id),
    ...]``; the last three None for a customer no rule applies to; rule_id
    None for the customer's own limit (named by ``personal_rule_id()``, called
    once when such a limit is read). A batch of a mailing reads ``partners``
    and ``limits`` as they are, with no object per recipient: ``partners`` is
    ``{key: partner_id}``, or ``{key: (partner_id, ...)}`` (sorted) for a key
    reaching several customers; ``limits`` ``{partner_id: (capacity,
    blocked_until, sequence, rule_id)}`` for the customers a rule applies to
    (``Limits``); ``full`` the customers with no capacity left, and
    ``refusals`` ``{partner_id: (blocked_until, sequence, rule_id)}`` what
    refuses their records.
    """

    def __init__(self, rows, keys=(), rules=(), personal_rule_id=None):
        # one pass over the rows, keeping each row as it came (a batch has 100k)
        positions = [None, *keys]
        partners, raw, full, shared = {}, {}, set(), {}
        for row in rows:
            key, partner_id = positions[row[0]], row[1]
            if partners.setdefault(key, partner_id) != partner_id:
                # a key reaching several customers
                shared.setdefault(key, {partners[key]}).add(partner_id)
            raw[partner_id] = row
            if row[2] == 0:
                full.add(partner_id)
        for key, customers in shared.items():
            partners[key] = tuple(sorted(customers))
        self.partners, self.limits, self.full = partners, Limits(raw, rules, personal_rule_id), full
        # what refuses each full customer's records, read once per customer
        rule = self.limits.rule
        self.refusals = {pid: (moment(raw[pid][3]), *rule(raw[pid][4])) for pid in full}

    def partner_ids(self, key):
        """The customers ``key`` resolves to, as a tuple (empty when none)."""
        found = self.partners.get(key)
        if found is None:
            return ()
        return found if type(found) is tuple else (found,)

    def __getitem__(self, key):
        partner_ids = self.partner_ids(key)
        if not partner_ids:
            raise KeyError(key)
        limits = {pid: self.limits[pid] for pid in partner_ids if pid in self.limits}
        # a key reaching several customers: the strictest rule blocking one of them
        blocking = strictest([limit[1:] for pid, limit in limits.items() if pid in self.full])
        rule_id, blocked_until = (blocking[2], blocking[0]) if blocking else (False, False)
        return Verdict(partner_ids, rule_id, blocked_until, limits)

    def __iter__(self):
        return iter(self.partners)

    def __len__(self):
        return len(self.partners)

    def __contains__(self, key):
        return key in self.partners


def _record_customers(record_keys, verdicts):
    """The customers of a record with several keys (or none): one partner id,
    a sorted tuple of several, or None."""
    found = {pid for key in record_keys for pid in verdicts.partner_ids(key)}
    if len(found) > 1:
        return tuple(sorted(found))
    return found.pop() if found else None


def filter_batch(keys_by_res_id, verdicts, sent=None):
    """One pass over the records of a mailing batch: ``(partners, refused)``.

    ``keys_by_res_id``: ``{res_id: [key, ...]}`` in sending order;
    ``verdicts``: the check of their keys (``Verdicts``); ``sent``: as for
    ``allocate``. ``partners``: ``{res_id: (partner_id, ...)}`` (sorted) for
    the records whose keys resolve to a known customer, in the batch's order;
    ``refused``: what ``allocate(list(partners.items()), verdicts.limits,
    sent)`` refuses, deciding each record in the same pass when its order
    cannot matter: without sends carried from earlier batches (``sent``
    None), a record reaching one customer is refused when that customer has
    no capacity left, and allowed when it has some and no other record
    reaches it. Only the records of the customers reached several times, or
    full and reached with others by one record, go through ``allocate``, in
    order.
    """
    partner_of, limits, full, refusals = verdicts.partners, verdicts.limits, verdicts.full, verdicts.refusals
    partners, refused = {}, {}
    seen, again = set(), set()
    shared_full = set()  # the full customers of records reaching several customers
    for res_id, record_keys in keys_by_res_id.items():
        found = partner_of.get(record_keys[0]) if len(record_keys) == 1 else _record_customers(record_keys, verdicts)
        if found is None:
            continue
        if type(found) is tuple:
            partners[res_id] = found
            again.update(seen.intersection(found))
            seen.update(found)
            shared_full.update(full.intersection(found))
            continue
        partners[res_id] = (found,)
        if found in seen:
            again.add(found)
        else:
            seen.add(found)
        if found in full:
            refused[res_id] = refusals[found]
    if sent is not None:
        return partners, allocate(list(partners.items()), limits, sent)
    hot = {pid for pid in again if pid in limits} | shared_full
    if hot:
        # in order, the records whose decision may depend on the others
        refused.update(
            allocate([(res_id, pids) for res_id, pids in partners.items() if not hot.isdisjoint(pids)], limits)
        )
    return partners, refused
