# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from ..tools.pressure import Verdicts, array_literal, cyclic_gc_paused
from .ecrm_interaction import CATEGORIES
from .res_partner_preference import preference_set_sql
from .res_partner_pressure import DEFAULT_HALF_LIFE_DAYS, pressure_horizon_sql, pressure_sql

# Categories a rule may limit. Transactional and service messages (order
# confirmation, invoice, case replies) are never blocked.
BLOCKABLE_CATEGORIES = ("marketing", "sales")


# The customer's own limits (preference centre): the channels that have them,
# their window, and the shipped rule that names them in traces and reports.
PERSONAL_CHANNELS = ("email", "sms", "phone")
PERSONAL_PERIOD_DAYS = 7
PERSONAL_RULE_XMLID = "ecrm_addon.ecrm_pressure_rule_customer"
# A pressure cap compares sums of decayed weights: this much rounding is no excess.
PRESSURE_EPSILON = 1e-9
# From this many keys a check is planned serially and without JIT
# (``_ecrm_fetch_serial``); below, its estimated cost stays under PostgreSQL's
# default ``jit_above_cost`` (about 80 per customer and rule set) and its plan
# reads one index range per customer: nothing to change, one query saved (the
# customer's form checks one customer).
SERIAL_BATCH = 500


class EcrmPressureRule(models.Model):
    """How many solicitations a customer accepts per period, and the gap between two.

    Several rules combine: a message is allowed only if every rule that applies
    allows it; the strictest blocking rule (the one that blocks longest) names
    the exclusion.
    """

    _name = "ecrm.pressure.rule"
    _description = "Contact Pressure Rule"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company",
        default=lambda self: self.env.company,
        help="Empty: the rule applies in every company (only Settings administrators configure those).",
    )
    channel = fields.Selection(
        [("email", "Email"), ("sms", "SMS"), ("phone", "Phone"), ("all", "All channels")],
        required=True,
        default="email",
        help="Messages on this channel are limited and counted; All channels counts every channel.",
    )
    category = fields.Selection(CATEGORIES, required=True, default="marketing")
    max_count = fields.Integer(
        string="Maximum messages",
        required=True,
        default=4,
        help="A new message is refused once the customer received this many in the period.",
    )
    period_days = fields.Integer(string="Period (days)", required=True, default=30)
    max_pressure = fields.Float(
        string="Maximum weighted pressure",
        digits=(16, 2),
        help="A message is refused when the customer's weighted pressure plus its channel's weight would "
        "exceed this value (reaching it exactly is allowed); 0: no pressure cap. With a cap, the "
        "maximum number of messages may be 0 (no count limit).",
    )
    min_interval_hours = fields.Integer(
        string="Minimum gap (hours)",
        default=0,
        help="Minimum time between two messages; 0: no minimum.",
    )
    segment_ids = fields.Many2many(
        "ecrm.rfm.segment",
        "ecrm_pressure_rule_segment_rel",
        "rule_id",
        "segment_id",
        string="RFM Segments",
        help="The rule applies only to customers in these segments; empty: to every customer.",
    )
    unresponsive_only = fields.Boolean(
        string="Unresponsive Customers Only",
        help="The rule applies only to customers flagged unresponsive on the channel of the message "
        "(none of their last marketing sends answered, see Settings): a cap of their own.",
    )
    description = fields.Char(compute="_compute_description")

    @api.depends("max_count", "period_days", "min_interval_hours", "channel", "max_pressure")
    def _compute_description(self):
        channels = dict(self._fields["channel"]._description_selection(self.env))
        for rule in self:
            if rule.max_count:
                text = self.env._(
                    "%(count)s per %(days)s days on %(channel)s",
                    count=rule.max_count,
                    days=rule.period_days,
                    channel=channels.get(rule.channel, ""),
                )
            else:
                text = channels.get(rule.channel, "")
            if rule.min_interval_hours:
                text += self.env._(", %(hours)s h between two", hours=rule.min_interval_hours)
            if rule.max_pressure:
                text += self.env._(", weighted pressure up to %(pressure)s", pressure=rule.max_pressure)
            rule.description = text

    @api.constrains("max_count", "period_days", "min_interval_hours", "category", "max_pressure")
    def _check_limits(self):
        for rule in self:
            if rule.max_pressure < 0:
                raise ValidationError(
                    self.env._("Rule %(rule)s: the maximum weighted pressure cannot be negative.", rule=rule.name)
                )
            # a pressure cap may stand alone (no count limit: 0 messages)
            if rule.max_count < 1 and not (rule.max_count == 0 and rule.max_pressure > 0):
                raise ValidationError(
                    self.env._(
                        "Rule %(rule)s: the maximum number of messages must be at least 1 "
                        "(archive the rule to stop using it).",
                        rule=rule.name,
                    )
                )
            if rule.period_days < 1:
                raise ValidationError(self.env._("Rule %(rule)s: the period must be at least one day.", rule=rule.name))
            if rule.min_interval_hours < 0:
                raise ValidationError(self.env._("Rule %(rule)s: the minimum gap cannot be negative.", rule=rule.name))
            if rule.category not in BLOCKABLE_CATEGORIES:
                raise ValidationError(
                    self.env._(
                        "Rule %(rule)s: transactional and service messages are never blocked; "
                        "a pressure rule limits marketing or sales messages.",
                        rule=rule.name,
                    )
                )

    @api.constrains("active")
    def _check_personal_rule_inactive(self):
        personal = self.env.ref(PERSONAL_RULE_XMLID, raise_if_not_found=False)
        if personal and personal in self and personal.active:
            raise ValidationError(
                self.env._(
                    "Rule %(rule)s names the limits each customer sets in the preference centre: it stays "
                    "archived and applies to the customers who set a limit.",
                    rule=personal.name,
                )
            )

    @api.constrains("company_id")
    def _check_company(self):
        # a shared rule limits every company's mailings
        if self.env.su or self.env.user.has_group("base.group_system"):
            return
        for rule in self.filtered(lambda r: not r.company_id):
            raise ValidationError(
                self.env._(
                    "Rule %(rule)s needs a company: only Settings administrators configure "
                    "rules shared by every company.",
                    rule=rule.name,
                )
            )

    # ------------------------------------------------------------------
    # Engine
    # ------------------------------------------------------------------

    @api.model
    def _ecrm_resolve_sql(self, channel, keys):
        """The SQL resolving recipient keys to commercial partners: one row
        ``(partner_id, keys)`` per customer, ``keys`` the positions (from 1) in
        ``keys`` of the keys reaching it.

        ``channel`` email: keys are normalised emails; sms/phone: E.164 numbers.
        The one place that knows how an address leads to a customer: through
        the identity keys (``ecrm_email_key``, ``ecrm_phone_key``, indexed). The
        keys come as one array (``array_literal``: one string to send and parse)
        joined to the partners (no huge IN list); grouped straight from the
        partners, the planner estimates the customers from their statistics
        (how many to look up in the log decides its plan). Grouped, a
        customer reached through several contacts (a company's buyers) has
        its touches read once: measured with 5 contacts per customer on 100k
        keys, a row per key and contact instead took 1.5 times as long
        (0.51 s against 0.73-0.78 s), where it saved about 45 ms (5%) of the
        statement with one contact each.
        """
        column = "ecrm_email_key" if channel == "email" else "ecrm_phone_key"
        return SQL(
            """
            SELECT p.commercial_partner_id AS partner_id, array_agg(k.n::int) AS keys
              FROM unnest(%(keys)s::varchar[]) WITH ORDINALITY AS k(key, n)
              JOIN res_partner p ON p.%(column)s = k.key
             WHERE p.active
             GROUP BY p.commercial_partner_id
            """,
            column=SQL.identifier(column),
            keys=array_literal(keys),
        )

    @api.model
    def _ecrm_check(self, company, channel, category, partner_ids=None, keys=None, now=None):
        """Which recipients the active rules block now: one query for the whole batch.

        Give either ``partner_ids`` (commercial partners, used as keys) or
        ``keys`` (normalised emails for email, E.164 numbers for sms/phone).
        Returns ``{key: Verdict(partner_ids, rule_id, blocked_until, limits)}``
        (a ``tools.pressure.Verdicts`` mapping, which also holds the batch's
        ``partners`` and ``limits`` with no object per key) for every key that
        resolves to at least one customer; ``rule_id`` is False when no rule
        blocks now. A key resolving to several customers is
        blocked when one of them is (by the rule that blocks longest).
        ``limits`` tells how many more messages each customer may receive now
        (see ``tools.pressure.Verdict``). Transactional and service messages are never blocked.
        """
        now = now or fields.Datetime.now()
        if partner_ids:
            keys = list(dict.fromkeys(partner_ids))  # each customer once, its own key
            targets = SQL(
                "SELECT pid AS partner_id, ARRAY[n::int] AS keys FROM unnest(%s::int[]) WITH ORDINALITY AS t(pid, n)",
                array_literal(keys),
            )
        else:
            keys = list({*(keys or ())} - {None, False, ""})  # each key once (a set: no Python loop)
            targets = self._ecrm_resolve_sql(channel, keys) if keys else None
        if not keys:
            return Verdicts((), keys)
        blockable = category in BLOCKABLE_CATEGORIES
        # the customer's own weekly limits (preference centre) hold marketing on their channels
        personal_channel = channel if category == "marketing" and channel in PERSONAL_CHANNELS else None
        for model in ("ecrm.pressure.rule", "ecrm.interaction", "ecrm.rfm.score"):
            self.env[model].flush_model()
        # Only what the SQL reads of partners: a compute calling this while a
        # form is read must not flush unrelated pending writes.
        self.env["res.partner"].flush_model(
            ["ecrm_email_key", "ecrm_phone_key", "commercial_partner_id", "active"]
            + (self.env["res.partner"]._ecrm_preference_fields(personal_channel) if personal_channel else [])
        )
        # The rules are read through the ORM (access and record rules apply);
        # the interaction log and scores are read in SQL for every customer,
        # whatever the current user's rights on them: the verdict is the
        # company's, not the user's.
        # sudo: whoever sends (a marketing user without e-CRM rights too) is
        # held to the company's rules; only the active rules' ids leave here.
        rules = (
            self.sudo().search_fetch(
                [
                    ("category", "=", category),
                    ("channel", "in", [channel, "all"]),
                    ("company_id", "in", [company.id, False]),
                ],
                [
                    "sequence",
                    "channel",
                    "max_count",
                    "period_days",
                    "min_interval_hours",
                    "max_pressure",
                    "unresponsive_only",
                ],
            )
            if blockable
            else self.browse()
        )
        self.env["ecrm.response.score"].flush_model()
        weight = None
        if any(rules.mapped("max_pressure")):
            # the weight this message adds to the customer's pressure
            weight = self.env["ecrm.pressure.weight"]._ecrm_weights(company).get(channel, 1.0)
        limits = self._ecrm_limits(rules, personal_channel)
        query = self._ecrm_check_sql(company, category, targets, limits, now, weight, channel=channel)
        # a row per key and its verdicts: many objects, no cycle (see cyclic_gc_paused)
        with cyclic_gc_paused():
            if len(keys) >= SERIAL_BATCH:
                rows = self._ecrm_fetch_serial(query)
            else:
                self.env.cr.execute(query)
                rows = self.env.cr.fetchall()
            return self._ecrm_verdicts(rows, keys, limits)

    @api.model
    def _ecrm_fetch_serial(self, query):
        """The rows of ``query``, planned and run serially and without JIT.

        Two planner settings hold for this one statement only (``SET LOCAL``
        sent with it, in force when it is planned, then put back to the
        connection's configured value with ``SET LOCAL ... TO DEFAULT``; a
        failing statement undoes them with its transaction or savepoint):

        * ``jit``: a batch of many customers makes the statement's estimated
          cost pass ``jit_above_cost``; PostgreSQL then compiles its (many,
          per-rule) expressions, which takes longer (about 1 s at 100k
          customers) than running the whole statement, and no query shape
          keeps a statement over 100k customers under that threshold;
        * ``max_parallel_workers_per_gather``: the log is read once, in one
          pass that a parallel plan splits among workers which then pass each
          row back to the leader; measured on the benchmark (2 cores), serial
          is faster, and an Odoo server already runs one worker per core.
        """
        cr = self.env.cr
        cr.execute(SQL("SET LOCAL jit = off; SET LOCAL max_parallel_workers_per_gather = 0; %s", query))
        rows = cr.fetchall()
        cr.execute("SET LOCAL jit TO DEFAULT; SET LOCAL max_parallel_workers_per_gather TO DEFAULT")
        return rows

    @api.model
    def _ecrm_limits(self, rules, personal_channel=None):
        """The limits a check applies, as ``_ecrm_check_sql`` unrolls them:
        one tuple of values per rule, then the customers' own limit on
        ``personal_channel`` (a rule of ``PERSONAL_PERIOD_DAYS`` days, id
        None), in the order that settles ties between rules as strict (the
        lowest sequence, then id, the own limit last)."""
        limits = [
            (
                rule.id,
                rule.sequence,
                rule.channel,
                rule.max_count or None,  # 0: a pressure cap alone, no count limit
                rule.period_days,
                rule.min_interval_hours,
                rule.max_pressure or None,
                rule.unresponsive_only,
            )
            for rule in rules
        ]
        if personal_channel:
            limits.append((None, 0, personal_channel, None, PERSONAL_PERIOD_DAYS, 0, None, False))
        limits.sort(key=lambda limit: (limit[1], limit[0] is None, limit[0] or 0))
        return limits

    @api.model
    def _ecrm_verdicts(self, rows, keys, limits):
        """``{key: Verdict}`` from the rows of ``_ecrm_check_sql`` on ``keys``
        and ``limits`` (``tools.pressure.Verdicts``: each verdict is built when
        it is read)."""
        # the customer's own limit: named by the shipped rule (read only when one applies)
        return Verdicts(rows, keys, [(limit[1], limit[0]) for limit in limits], lambda: self._ecrm_personal_rule().id)

    @api.model
    def _ecrm_audience_sql(self, company, channel):
        """Whether an "unresponsive only" rule holds customer ``c.partner_id``
        (SQL over the customers' rows of ``_ecrm_check_sql``), beyond its
        segments: only customers flagged unresponsive on the message's
        ``channel`` in ``company`` (``ecrm.response.score``)."""
        return SQL(
            """EXISTS (
                   SELECT 1 FROM ecrm_response_score rr
                    WHERE rr.partner_id = c.partner_id
                      AND rr.company_id = %s
                      AND rr.channel = %s
                      AND rr.unresponsive)""",
            company.id,
            channel,
        )

    @api.model
    def _ecrm_personal_rule(self):
        """The shipped, archived rule that names the customers' own limits."""
        # sudo: the name of the limit goes to traces written for any sender
        return self.sudo().env.ref(PERSONAL_RULE_XMLID)

    @api.model
    def _ecrm_check_sql(self, company, category, targets, limits, now, weight=None, channel=None):
        """The statement of ``_ecrm_check``: rows ``(key, partner_id, capacity,
        blocked_until, rule)``, one per key and customer it reaches: ``key`` its
        position (from 1) among the keys, ``blocked_until`` in seconds since
        the epoch (infinity: never), ``rule`` the position (from 1) of the
        strictest limit in ``limits`` (``_ecrm_limits``); the last three NULL
        for a customer no limit applies to. Only numbers: the batch's keys and
        rules are known to the caller, and a number costs the driver a
        fraction of a timestamp or a text to read. ``targets``: one row
        ``(partner_id, keys)`` per customer (``_ecrm_resolve_sql``).

        The customers' touches are read once, joined to the customers and
        aggregated per customer with one set of filtered aggregates per rule
        (no row multiplied by the number of rules): the count in the window,
        its oldest touch, the last touch inside the gap. The planner estimates
        the customers from the partners' statistics: a small batch reads one
        range per customer of the covering index
        ``ecrm_interaction_pressure_cover_idx`` (nested loop), a batch of most
        customers the log once, in the index's order (merge join, no sort);
        the customers without a touch join the aggregates afterwards. Only
        customers at, or one message from, a rule's maximum need the window's
        newest dates (a short backward index range each). The rules are few
        and known here: each is unrolled into columns of the customer's one
        row, with its values as constants. From them, per rule: the messages
        still allowed now (``capacity``) and when the rule frees once they are
        sent, the same decisions as ``tools.pressure.rule_capacity``; per
        customer, the rule with the least capacity, then the one blocking
        longest, then the lowest sequence and id (``tools.pressure.strictest``).

        A rule with ``max_pressure`` also caps the customer's weighted pressure
        (``res.partner.ecrm_pressure``, read when such a rule exists): the
        messages of ``weight`` it still allows are those keeping the pressure
        at or below the cap; it frees when the pressure has decayed enough for
        one more (the pressure halves every half-life).

        The customers' own limits (the limit of id None, on its channel: the
        strictest of their contacts' preferences) are one more rule of
        ``PERSONAL_PERIOD_DAYS`` days: a weekly maximum, or 0 when the customer
        turned the channel off (blocked for good: until they turn it on).
        """
        if not limits:
            return SQL(
                "SELECT k.key, t.partner_id, NULL::int, NULL::float, NULL::int"
                " FROM (%s) t CROSS JOIN LATERAL unnest(t.keys) AS k(key)",
                targets,
            )
        personal_channel = next((limit[2] for limit in limits if limit[0] is None), None)
        now_sql = SQL("%s::timestamp", now)
        half_life = max(company.ecrm_pressure_half_life_days or DEFAULT_HALF_LIFE_DAYS, 1) if weight else 1
        since = min(min(now - timedelta(days=limit[4]), now - timedelta(hours=limit[5])) for limit in limits)
        aggregates, figures, candidates = [], [], []
        for index, limit in enumerate(limits, start=1):
            parts = self._ecrm_limit_sql(index, limit, company, category, channel, now, weight, half_life)
            aggregates += parts["aggregates"]
            figures += parts["figures"]
            candidates.append(parts["candidate"])
        joins = []
        if personal_channel:
            preference = self.env["res.partner"]._ecrm_preference_fields(personal_channel)
            off = SQL("rp.%s", SQL.identifier(preference[1])) if len(preference) > 1 else SQL("FALSE")
            # only the contacts with a limit (a small partial index): a customer without one has no row
            personal = SQL(
                """, personal AS MATERIALIZED (
                   SELECT rp.commercial_partner_id AS partner_id,
                          min(CASE WHEN %(off)s THEN 0 ELSE NULLIF(rp.%(cap)s, 0) END) AS cap
                     FROM res_partner rp
                    WHERE rp.commercial_partner_id IN (SELECT partner_id FROM customers)
                      AND %(has_limit)s
                    GROUP BY rp.commercial_partner_id)""",
                off=off,
                cap=SQL.identifier(preference[0]),
                has_limit=preference_set_sql(personal_channel, "rp"),
            )
            joins.append(SQL("LEFT JOIN personal pc ON pc.partner_id = c.partner_id"))
        else:
            personal = SQL()
        if weight:
            # one more index range per customer, as the profile reads it (none
            # when the message weighs nothing: no cap can hold it)
            joins.append(
                SQL(
                    """LEFT JOIN LATERAL (
                       SELECT %(pressure)s AS pressure
                         FROM ecrm_interaction i
                        WHERE i.commercial_partner_id = c.partner_id
                          AND i.company_id = %(company)s
                          AND i.direction = 'outbound'
                          AND %(horizon)s) pr ON TRUE""",
                    pressure=pressure_sql("i", now_sql, half_life),
                    horizon=pressure_horizon_sql("i", now_sql, half_life),
                    company=company.id,
                )
            )
            figures.append(SQL("COALESCE(pr.pressure, 0.0) AS pressure"))
        # the touched customers (an inner join: the log read in the index's
        # order); the others join without figures (every limit counts touches)
        touches = SQL(
            """, touches AS (
               SELECT c.partner_id, %(aggregates)s
                 FROM customers c
                 JOIN ecrm_interaction i ON i.commercial_partner_id = c.partner_id
                WHERE i.company_id = %(company)s
                  AND i.category = %(category)s
                  AND i.direction = 'outbound'
                  AND i.date > %(since)s
                GROUP BY c.partner_id)""",
            aggregates=SQL(", ").join(aggregates),
            company=company.id,
            category=category,
            since=since,
        )
        joins.insert(0, SQL("LEFT JOIN touches t ON t.partner_id = c.partner_id"))
        return SQL(
            """
            WITH customers AS MATERIALIZED (%(targets)s)%(personal)s%(touches)s
            SELECT unnest(s.keys) AS key, s.partner_id, s.best[1]::int AS capacity,
                   -s.best[2] AS blocked_until, s.best[3]::int AS rule
              FROM (
                SELECT f.partner_id, f.keys, LEAST(%(candidates)s) AS best
                  FROM (
                    SELECT c.partner_id, c.keys, %(figures)s
                      FROM customers c
                      %(joins)s
                    OFFSET 0) f
                OFFSET 0) s
            """,
            targets=targets,
            personal=personal,
            touches=touches,
            joins=SQL("\n").join(joins),
            figures=SQL(", ").join(figures),
            candidates=SQL(", ").join(candidates),
        )

    @api.model
    def _ecrm_limit_sql(self, index, limit, company, category, channel, now, weight, half_life):
        """The SQL of one limit of ``_ecrm_check_sql`` (``limit``, its values;
        ``index``, its rank among them), unrolled into the customer's row:
        ``aggregates`` over its touches (alias ``i``, grouped per customer in
        ``touches``, alias ``t``), the ``figures`` of the customer's row
        computed from them (alias ``f`` after), and its ``candidate`` for the
        strictest limit.

        The figures, with the same decisions as ``tools.pressure.rule_capacity``:
        the count and the gap allow ``cc_<index>`` more messages now, and free
        at ``cu_<index>`` once they are sent; a cap on the weighted pressure
        allows ``pc_<index>`` (absent: no cap, or messages that weigh
        nothing). The rule's values are constants of the statement; the
        customer's own limit takes its maximum from the customer's row.
        """
        rule_id, _sequence, rule_channel, max_count, period_days, gap_hours, max_pressure, unresponsive = limit
        now_sql = SQL("%s::timestamp", now)
        weight_sql = SQL("%s::float", weight or 0.0)
        window_start = now - timedelta(days=period_days)
        channel_ok = SQL("TRUE") if rule_channel == "all" else SQL("i.channel = %s", rule_channel)
        in_window = SQL("%s AND i.date > %s", channel_ok, window_start)
        names = ("cnt", "oldest", "gap", "cc", "cu", "pc", "applies")
        col = {name: SQL.identifier(f"{name}_{index}") for name in names}
        personal = rule_id is None
        parts = {
            "aggregates": [
                SQL("count(*) FILTER (WHERE %s) AS %s", in_window, col["cnt"]),
                SQL("min(i.date) FILTER (WHERE %s) AS %s", in_window, col["oldest"]),
            ],
            "figures": [],
        }
        cnt, oldest = SQL("COALESCE(t.%s, 0)", col["cnt"]), SQL("t.%s", col["oldest"])
        if gap_hours:
            parts["aggregates"].append(
                SQL(
                    "max(i.date) FILTER (WHERE %s AND i.date > %s) AS %s",
                    channel_ok,
                    now - timedelta(hours=gap_hours),
                    col["gap"],
                )
            )
            gap = SQL("t.%s", col["gap"])
        else:
            gap = SQL("NULL::timestamp")
        # the customer's own limit: its weekly maximum (0: the channel turned off)
        maximum = SQL("NULLIF(pc.cap, 0)") if personal else SQL("%s::int", max_count)

        def newest(rank):
            # the customer's rank-th newest touch of the window (a short backward index range)
            return SQL(
                """(SELECT i.date
                      FROM ecrm_interaction i
                     WHERE i.company_id = %(company)s
                       AND i.commercial_partner_id = c.partner_id
                       AND i.category = %(category)s
                       AND i.direction = 'outbound'
                       AND %(channel_ok)s
                       AND i.date > %(window_start)s
                     ORDER BY i.date DESC
                     OFFSET %(rank)s - 1 LIMIT 1)""",
                company=company.id,
                category=category,
                channel_ok=channel_ok,
                window_start=window_start,
                rank=rank,
            )

        period = SQL("make_interval(days => %s)", period_days)
        if gap_hours:
            # the gap frees first; once the message is sent, the count may hold longer
            allowed = SQL(
                """GREATEST(%(now)s + make_interval(hours => %(gap_hours)s),
                            CASE WHEN %(cnt)s + 1 >= %(maximum)s
                                 THEN COALESCE(CASE WHEN %(maximum)s > 1 THEN %(before_last)s END, %(now)s)
                                      + %(period)s END)""",
                now=now_sql,
                gap_hours=gap_hours,
                cnt=cnt,
                maximum=maximum,
                before_last=newest(SQL("%s - 1", maximum)),
                period=period,
            )
        else:
            allowed = SQL("CASE WHEN %s IS NOT NULL THEN COALESCE(%s, %s) + %s END", maximum, oldest, now_sql, period)
        parts["figures"] += [
            SQL(
                """CASE WHEN %(cnt)s >= %(maximum)s OR %(gap)s IS NOT NULL THEN 0
                        WHEN %(gap_hours)s > 0 THEN 1
                        ELSE %(maximum)s - %(cnt)s
                   END AS %(cc)s""",
                cnt=cnt,
                maximum=maximum,
                gap=gap,
                gap_hours=gap_hours,
                cc=col["cc"],
            ),
            SQL(
                """CASE WHEN %(cnt)s >= %(maximum)s OR %(gap)s IS NOT NULL
                        THEN GREATEST(CASE WHEN %(cnt)s >= %(maximum)s THEN %(last)s + %(period)s END,
                                      %(gap)s + make_interval(hours => %(gap_hours)s))
                        ELSE %(allowed)s
                   END AS %(cu)s""",
                cnt=cnt,
                maximum=maximum,
                gap=gap,
                gap_hours=gap_hours,
                last=newest(maximum),
                period=period,
                allowed=allowed,
                cu=col["cu"],
            ),
        ]
        if max_pressure and weight:
            parts["figures"].append(
                SQL(
                    "GREATEST(floor((%s - COALESCE(pr.pressure, 0.0)) / %s + %s), 0)::int AS %s",
                    SQL("%s::float", max_pressure),
                    weight_sql,
                    PRESSURE_EPSILON,
                    col["pc"],
                )
            )
        if personal:
            applies = SQL("pc.cap IS NOT NULL")
        else:
            # the rule's segments (none: every customer), read once
            applies = SQL(
                """(NOT EXISTS (SELECT 1 FROM ecrm_pressure_rule_segment_rel rel WHERE rel.rule_id = %(rule)s)
                    OR EXISTS (SELECT 1 FROM ecrm_rfm_score rs
                                WHERE rs.partner_id = c.partner_id
                                  AND rs.company_id = %(company)s
                                  AND rs.segment_id IN (SELECT rel.segment_id
                                                          FROM ecrm_pressure_rule_segment_rel rel
                                                         WHERE rel.rule_id = %(rule)s)))""",
                rule=rule_id,
                company=company.id,
            )
        if unresponsive:
            applies = SQL("%s AND %s", applies, self._ecrm_audience_sql(company, channel))
        parts["figures"].append(SQL("%s AS %s", applies, col["applies"]))
        if personal:
            parts["figures"].append(SQL("pc.cap = 0 AS off"))
        # the messages still allowed now, and when the limit frees once they are sent
        cc, cu = SQL("f.%s", col["cc"]), SQL("f.%s", col["cu"])
        if max_pressure and weight:
            pc = SQL("f.%s", col["pc"])
            capacity = SQL("LEAST(%s, %s)", cc, pc)
            until = SQL(
                """GREATEST(
                       CASE WHEN %(pc)s IS NULL OR %(cc)s <= %(pc)s THEN %(cu)s END,
                       -- once its messages are sent, the pressure frees when it has
                       -- decayed to the cap minus one message (never if one exceeds it)
                       CASE WHEN %(cc)s IS NULL OR %(pc)s <= %(cc)s
                            THEN %(decayed)s
                       END)""",
                cc=cc,
                pc=pc,
                cu=cu,
                decayed=(
                    SQL("'infinity'::timestamp")
                    if max_pressure <= weight
                    else SQL(
                        """%(now)s + make_interval(secs => GREATEST(
                               %(half_life)s * 86400.0
                               * ln((f.pressure + %(pc)s * %(weight)s) / (%(max_pressure)s - %(weight)s)) / ln(2.0),
                               0.0))""",
                        now=now_sql,
                        half_life=half_life,
                        pc=pc,
                        weight=weight_sql,
                        max_pressure=SQL("%s::float", max_pressure),
                    )
                ),
            )
        else:
            capacity, until = cc, cu
        if personal:
            capacity = SQL("CASE WHEN f.off THEN 0 ELSE %s END", capacity)
            until = SQL("CASE WHEN f.off THEN 'infinity'::timestamp ELSE %s END", until)
        # the strictest limit is the least of these (a limit that does not
        # apply, or limits nothing, has none): capacity, then the latest
        # release first, then the limit's rank
        parts["candidate"] = SQL(
            """CASE WHEN f.%(applies)s AND %(capacity)s IS NOT NULL
                    THEN ARRAY[%(capacity)s, COALESCE(-date_part('epoch', %(until)s), '-Infinity'), %(index)s]::float[]
               END""",
            applies=col["applies"],
            capacity=capacity,
            until=until,
            index=index,
        )
        return parts
