# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from ..tools.pressure import Verdicts
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
        ``(partner_id, keys)`` per customer, with the keys reaching it.

        ``channel`` email: keys are normalised emails; sms/phone: E.164 numbers.
        The one place that knows how an address leads to a customer: through
        the identity keys (``ecrm_email_key``, ``ecrm_phone_key``, indexed). The
        keys come as one array joined to the partners (no huge IN list); grouped
        straight from the partners, the planner estimates the customers from
        their statistics (how many to look up in the log decides its plan).
        """
        column = "ecrm_email_key" if channel == "email" else "ecrm_phone_key"
        return SQL(
            """
            SELECT p.commercial_partner_id AS partner_id, array_agg(k.key) AS keys
              FROM unnest(%(keys)s::varchar[]) AS k(key)
              JOIN res_partner p ON p.%(column)s = k.key
             WHERE p.active
             GROUP BY p.commercial_partner_id
            """,
            column=SQL.identifier(column),
            keys=list(keys),
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
        keys = list({*(keys or ())} - {None, False, ""})  # each key once (a set: no Python loop)
        if not (partner_ids or keys):
            return Verdicts(())
        if partner_ids:
            targets = SQL(
                "SELECT pid AS partner_id, ARRAY[pid] AS keys FROM unnest(%s::int[]) AS pid GROUP BY pid",
                list(partner_ids),
            )
        else:
            targets = self._ecrm_resolve_sql(channel, keys)
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
        rows = self._ecrm_fetch_serial(
            self._ecrm_check_sql(company, category, targets, rules, now, weight, personal_channel, channel=channel)
        )
        return self._ecrm_verdicts(rows)

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
    def _ecrm_verdicts(self, rows):
        """``{key: Verdict}`` from the rows of ``_ecrm_check_sql`` (``tools.pressure.Verdicts``:
        each verdict is built when it is read)."""
        # the customer's own limit: named by the shipped rule (read only when one applies)
        return Verdicts(rows, lambda: self._ecrm_personal_rule().id)

    @api.model
    def _ecrm_audience_sql(self, company, channel):
        """Whether an "unresponsive only" rule holds customer ``f.partner_id``
        (SQL over the customers' rows of ``_ecrm_check_sql``), beyond its
        segments: only customers flagged unresponsive on the message's
        ``channel`` in ``company`` (``ecrm.response.score``)."""
        return SQL(
            """EXISTS (
                   SELECT 1 FROM ecrm_response_score rr
                    WHERE rr.partner_id = f.partner_id
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
    def _ecrm_check_sql(self, company, category, targets, rules, now, weight=None, personal_channel=None, channel=None):
        """The statement of ``_ecrm_check``: rows ``(key, partner_id, capacity,
        blocked_until, sequence, rule_id)``, the last four NULL for a customer
        no rule applies to; ``rule_id`` NULL for the customer's own limit.
        ``targets``: one row ``(partner_id, keys)`` per customer
        (``_ecrm_resolve_sql``).

        The customers' touches are read once, joined to the customers and
        aggregated per customer with one set of filtered aggregates per rule
        (no row multiplied by the number of rules): the count in the window,
        its oldest touch, the last touch inside the gap. The planner estimates
        the customers from the partners' statistics: a small batch reads one
        range per customer of the covering index
        ``ecrm_interaction_pressure_cover_idx`` (nested loop), a batch of most
        customers the log once (hash or merge join). Only customers at, or one
        message from, a rule's maximum need the window's newest dates (a short
        backward index range each). The rules are few and known here: each is
        unrolled into columns of the customer's one row, with its values as
        constants. From them, per rule: the messages still allowed now
        (``capacity``) and when the rule frees once they are sent, the same
        decisions as ``tools.pressure.rule_capacity``; per customer, the rule
        with the least capacity, then the one blocking longest, then the lowest
        sequence and id (``tools.pressure.strictest``).

        A rule with ``max_pressure`` also caps the customer's weighted pressure
        (``res.partner.ecrm_pressure``, read when such a rule exists): the
        messages of ``weight`` it still allows are those keeping the pressure
        at or below the cap; it frees when the pressure has decayed enough for
        one more (the pressure halves every half-life).

        ``personal_channel``: the customers' own limits on that channel (the
        strictest of their contacts' preferences) join as one more rule of
        ``PERSONAL_PERIOD_DAYS`` days: a weekly maximum, or 0 when the customer
        turned the channel off (blocked for good: until they turn it on).
        """
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
        if not limits:
            return SQL(
                "SELECT k.key, t.partner_id, NULL::int, NULL::timestamp, NULL::int, NULL::int"
                " FROM (%s) t CROSS JOIN LATERAL unnest(t.keys) AS k(key)",
                targets,
            )
        # ties between rules as strict: the lowest sequence, then id (the own limit last)
        limits.sort(key=lambda limit: (limit[1], limit[0] is None, limit[0] or 0))
        now_sql = SQL("%s::timestamp", now)
        half_life = max(company.ecrm_pressure_half_life_days or DEFAULT_HALF_LIFE_DAYS, 1) if weight else 1
        since = now
        aggregates, inputs, steps, figures, candidates, untils = [], [], [], [], [], []
        for index, limit in enumerate(limits, start=1):
            since = min(since, now - timedelta(days=limit[4]), now - timedelta(hours=limit[5]))
            parts = self._ecrm_limit_sql(index, limit, company, category, channel, now, weight, half_life)
            aggregates += parts["aggregates"]
            inputs += parts["inputs"]
            steps.append(parts["step"])
            figures.append(parts["figure"])
            candidates.append(parts["candidate"])
            untils.append(parts["until"])
        if weight is not None:
            # one more index range per customer, as the profile reads it
            pressure = SQL(
                """LEFT JOIN LATERAL (
                   SELECT %(pressure)s AS pressure
                     FROM ecrm_interaction i
                    WHERE i.commercial_partner_id = f.partner_id
                      AND i.company_id = %(company)s
                      AND i.direction = 'outbound'
                      AND %(horizon)s) pr ON TRUE""",
                pressure=pressure_sql("i", now_sql, half_life),
                horizon=pressure_horizon_sql("i", now_sql, half_life),
                company=company.id,
            )
            pressure_value = SQL("COALESCE(pr.pressure, 0.0)")
        else:
            pressure = SQL()
            pressure_value = SQL("0.0::float")
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
            personal_join = SQL("LEFT JOIN personal pc ON pc.partner_id = f.partner_id")
        else:
            personal = personal_join = SQL()
        if aggregates:
            figures_from = SQL(
                """SELECT c.partner_id, min(c.keys) AS keys, %(aggregates)s
                     FROM customers c
                     LEFT JOIN ecrm_interaction i
                       ON i.commercial_partner_id = c.partner_id
                      AND i.company_id = %(company)s
                      AND i.category = %(category)s
                      AND i.direction = 'outbound'
                      AND i.date > %(since)s
                    GROUP BY c.partner_id""",
                aggregates=SQL(", ").join(aggregates),
                company=company.id,
                category=category,
                since=since,
            )
        else:
            figures_from = SQL("SELECT c.partner_id, c.keys FROM customers c")
        return SQL(
            """
            WITH customers AS MATERIALIZED (%(targets)s)%(personal)s
            SELECT unnest(s.keys) AS key, s.partner_id, s.best[1]::int AS capacity,
                   CASE s.best[3]::int %(untils)s END AS blocked_until,
                   (%(sequences)s::int[])[s.best[3]::int] AS sequence,
                   (%(rule_ids)s::int[])[s.best[3]::int] AS rule_id
              FROM (
                SELECT p.*, LEAST(%(candidates)s) AS best
                  FROM (
                    SELECT p.*, %(figures)s
                      FROM (
                        SELECT p.*, %(steps)s
                          FROM (
                            SELECT f.*, %(pressure_value)s AS pressure, %(inputs)s
                              FROM (
                                -- the customers' touches, read once (an aggregate per
                                -- customer: one row even without touches)
                                %(figures_from)s
                              ) f
                              %(personal_join)s
                              %(pressure)s
                            OFFSET 0) p
                        OFFSET 0) p
                    OFFSET 0) p
                OFFSET 0) s
            """,
            targets=targets,
            personal=personal,
            personal_join=personal_join,
            pressure=pressure,
            pressure_value=pressure_value,
            figures_from=figures_from,
            inputs=SQL(", ").join(inputs),
            steps=SQL(", ").join(steps),
            figures=SQL(", ").join(figures),
            candidates=SQL(", ").join(candidates),
            untils=SQL(" ").join(untils),
            sequences=[limit[1] for limit in limits],
            rule_ids=[limit[0] for limit in limits],
        )

    @api.model
    def _ecrm_limit_sql(self, index, limit, company, category, channel, now, weight, half_life):
        """The SQL of one rule of ``_ecrm_check_sql`` (``limit``, its values;
        ``index``, its rank among them), unrolled into the customer's row:
        ``aggregates`` over the log, then the columns of each step (``inputs``,
        ``step``, ``figure``), its ``candidate`` for the strictest rule and its
        ``until`` (when it frees)."""
        rule_id, _sequence, rule_channel, max_count, period_days, gap_hours, max_pressure, unresponsive = limit
        now_sql = SQL("%s::timestamp", now)
        weight_sql = SQL("%s::float", weight or 0.0)
        parts = {"aggregates": []}
        window_start = now - timedelta(days=period_days)
        gap_start = now - timedelta(hours=gap_hours)
        channel_ok = SQL("TRUE") if rule_channel == "all" else SQL("i.channel = %s", rule_channel)
        in_window = SQL("%s AND i.date > %s", channel_ok, window_start)

        def newest_dates(limit):
            # the customer's touches of the rule's window, newest first (one backward index range)
            return SQL(
                """ARRAY(SELECT i.date
                           FROM ecrm_interaction i
                          WHERE i.company_id = %(company)s
                            AND i.commercial_partner_id = f.partner_id
                            AND i.category = %(category)s
                            AND i.direction = 'outbound'
                            AND %(channel_ok)s
                            AND i.date > %(window_start)s
                          ORDER BY i.date DESC
                          %(limit)s)""",
                company=company.id,
                category=category,
                channel_ok=channel_ok,
                window_start=window_start,
                limit=limit,
            )

        col = {
            name: SQL.identifier(f"{name}_{index}")
            for name in (
                "cnt",
                "oldest",
                "gap",
                "max_count",
                "off",
                "applies",
                "dates",
                "count_capacity",
                "count_until",
                "pressure_capacity",
                "capacity",
                "until",
            )
        }
        if rule_id is None:
            # the customer's own limit: only for the customers who set one
            # (few), their window's touches newest first (one index range each)
            max_count_sql, off, applies = SQL("pc.cap"), SQL("pc.cap = 0"), SQL("pc.cap IS NOT NULL")
            dates = SQL("CASE WHEN pc.cap IS NOT NULL THEN %s END", newest_dates(SQL()))
            cnt = SQL("COALESCE(cardinality(p.%s), 0)", col["dates"])
            oldest = SQL("p.%s[cardinality(p.%s)]", col["dates"], col["dates"])
            gap = SQL("NULL::timestamp")
        else:
            parts["aggregates"] += [
                SQL("count(*) FILTER (WHERE %s) AS %s", in_window, col["cnt"]),
                SQL("min(i.date) FILTER (WHERE %s) AS %s", in_window, col["oldest"]),
            ]
            if gap_hours:
                parts["aggregates"].append(
                    SQL("max(i.date) FILTER (WHERE %s AND i.date > %s) AS %s", channel_ok, gap_start, col["gap"])
                )
            cnt, oldest = SQL("p.%s", col["cnt"]), SQL("p.%s", col["oldest"])
            gap = SQL("p.%s", col["gap"]) if gap_hours else SQL("NULL::timestamp")
            max_count_sql, off = SQL("%s::int", max_count), SQL("FALSE")
            # the rule's segments (none: every customer), read once
            applies = SQL(
                """(NOT EXISTS (SELECT 1 FROM ecrm_pressure_rule_segment_rel rel WHERE rel.rule_id = %(rule)s)
                    OR EXISTS (SELECT 1 FROM ecrm_rfm_score rs
                                WHERE rs.partner_id = f.partner_id
                                  AND rs.company_id = %(company)s
                                  AND rs.segment_id IN (SELECT rel.segment_id
                                                          FROM ecrm_pressure_rule_segment_rel rel
                                                         WHERE rel.rule_id = %(rule)s)))""",
                rule=rule_id,
                company=company.id,
            )
            if unresponsive:
                applies = SQL("%s AND %s", applies, self._ecrm_audience_sql(company, channel))
            # only customers at, or one message from, the maximum need its newest dates
            dates = (
                SQL(
                    "CASE WHEN f.%s >= %s - 1 THEN %s END",
                    col["cnt"],
                    max_count_sql,
                    newest_dates(SQL("LIMIT %s", max_count_sql)),
                )
                if max_count
                else SQL("NULL::timestamp[]")
            )
        parts["inputs"] = [
            SQL("%s AS %s", max_count_sql, col["max_count"]),
            SQL("%s AS %s", off, col["off"]),
            SQL("%s AS %s", applies, col["applies"]),
            SQL("%s AS %s", dates, col["dates"]),
        ]
        parts["step"] = SQL(
            """
                -- the count and the gap (NULL: the rule has neither)
                CASE WHEN %(cnt)s >= p.%(max_count)s OR %(gap)s IS NOT NULL THEN 0
                     WHEN %(gap_hours)s > 0 THEN 1
                     ELSE p.%(max_count)s - %(cnt)s
                END AS %(count_capacity)s,
                CASE WHEN %(cnt)s >= p.%(max_count)s OR %(gap)s IS NOT NULL
                     THEN GREATEST(
                         CASE WHEN %(cnt)s >= p.%(max_count)s
                              THEN p.%(dates)s[p.%(max_count)s] + make_interval(days => %(period_days)s) END,
                         %(gap)s + make_interval(hours => %(gap_hours)s))
                     WHEN %(gap_hours)s > 0
                     THEN GREATEST(
                         %(now)s + make_interval(hours => %(gap_hours)s),
                         CASE WHEN %(cnt)s + 1 >= p.%(max_count)s
                              THEN COALESCE(p.%(dates)s[p.%(max_count)s - 1], %(now)s)
                                   + make_interval(days => %(period_days)s) END)
                     WHEN p.%(max_count)s IS NOT NULL
                     THEN COALESCE(%(oldest)s, %(now)s) + make_interval(days => %(period_days)s)
                END AS %(count_until)s,
                -- the weighted pressure (NULL: no cap, or messages that weigh nothing)
                CASE WHEN %(max_pressure)s IS NOT NULL AND %(weight)s > 0
                     THEN GREATEST(floor((%(max_pressure)s - p.pressure) / %(weight)s + %(epsilon)s), 0)::int
                END AS %(pressure_capacity)s""",
            cnt=cnt,
            gap=gap,
            oldest=oldest,
            dates=col["dates"],
            max_count=col["max_count"],
            count_capacity=col["count_capacity"],
            count_until=col["count_until"],
            pressure_capacity=col["pressure_capacity"],
            gap_hours=SQL("%s::int", gap_hours),
            period_days=SQL("%s::int", period_days),
            max_pressure=SQL("%s::float", max_pressure),
            now=now_sql,
            weight=weight_sql,
            epsilon=PRESSURE_EPSILON,
        )
        parts["figure"] = SQL(
            """
                CASE WHEN p.%(off)s THEN 0 ELSE LEAST(p.%(cc)s, p.%(pc)s) END AS %(capacity)s,
                CASE WHEN p.%(off)s THEN 'infinity'::timestamp
                     ELSE GREATEST(
                         CASE WHEN p.%(pc)s IS NULL OR p.%(cc)s <= p.%(pc)s THEN p.%(cu)s END,
                         -- once its messages are sent, the pressure frees when it has
                         -- decayed to the cap minus one message (never if one exceeds it)
                         CASE WHEN p.%(cc)s IS NULL OR p.%(pc)s <= p.%(cc)s
                              THEN CASE WHEN %(max_pressure)s <= %(weight)s THEN 'infinity'::timestamp
                                        ELSE %(now)s + make_interval(secs => GREATEST(
                                            %(half_life)s * 86400.0
                                            * ln((p.pressure + p.%(pc)s * %(weight)s)
                                                 / (%(max_pressure)s - %(weight)s)) / ln(2.0), 0.0))
                                   END
                         END)
                END AS %(until)s""",
            off=col["off"],
            cc=col["count_capacity"],
            pc=col["pressure_capacity"],
            cu=col["count_until"],
            capacity=col["capacity"],
            until=col["until"],
            max_pressure=SQL("%s::float", max_pressure),
            weight=weight_sql,
            now=now_sql,
            half_life=half_life,
        )
        # the strictest rule is the least of these (a rule that does not
        # apply, or limits nothing, has none): capacity, then the latest
        # release first, then the rule's rank
        parts["candidate"] = SQL(
            """CASE WHEN p.%(applies)s AND p.%(capacity)s IS NOT NULL
                        THEN ARRAY[p.%(capacity)s,
                                   COALESCE(-date_part('epoch', p.%(until)s), '-Infinity'),
                                   %(index)s]::float[] END""",
            applies=col["applies"],
            capacity=col["capacity"],
            until=col["until"],
            index=index,
        )
        parts["until"] = SQL("WHEN %s THEN s.%s", index, col["until"])
        return parts
