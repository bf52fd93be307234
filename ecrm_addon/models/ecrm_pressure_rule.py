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
        """The SQL resolving recipient keys to commercial partners: rows (key, partner_id).

        ``channel`` email: keys are normalised emails; sms/phone: E.164 numbers.
        The one place that knows how an address leads to a customer: through
        the identity keys (``ecrm_email_key``, ``ecrm_phone_key``, indexed). The
        keys come as one array joined to the partners (no huge IN list).
        """
        column = "ecrm_email_key" if channel == "email" else "ecrm_phone_key"
        return SQL(
            """
            SELECT DISTINCT k.key, p.commercial_partner_id AS partner_id
              FROM unnest(%(keys)s::varchar[]) AS k(key)
              JOIN res_partner p ON p.%(column)s = k.key
             WHERE p.active
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
        keys = [key for key in keys or () if key]
        if not (partner_ids or keys):
            return Verdicts(())
        if partner_ids:
            targets = SQL(
                "SELECT DISTINCT pid AS key, pid AS partner_id FROM unnest(%s::int[]) AS pid",
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
        self.env.cr.execute(
            self._ecrm_check_sql(company, category, targets, rules, now, weight, personal_channel, channel=channel)
        )
        return self._ecrm_verdicts(self.env.cr.fetchall())

    @api.model
    def _ecrm_verdicts(self, rows):
        """``{key: Verdict}`` from the rows of ``_ecrm_check_sql`` (``tools.pressure.Verdicts``:
        each verdict is built when it is read)."""
        # the customer's own limit: named by the shipped rule (read only when one applies)
        return Verdicts(rows, lambda: self._ecrm_personal_rule().id)

    @api.model
    def _ecrm_audience_sql(self, company, channel):
        """Whether rule ``r`` applies to customer ``c.partner_id`` (SQL over the
        ``pairs`` of ``_ecrm_check_sql``), beyond its segments: an
        "unresponsive only" rule holds only customers flagged unresponsive on
        the message's ``channel`` in ``company`` (``ecrm.response.score``)."""
        return SQL(
            """(r.unresponsive_only IS NOT TRUE OR EXISTS (
                   SELECT 1 FROM ecrm_response_score rr
                    WHERE rr.partner_id = c.partner_id
                      AND rr.company_id = %s
                      AND rr.channel = %s
                      AND rr.unresponsive))""",
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

        The customers' touches are read once, one index range per customer on
        the covering index ``ecrm_interaction_pressure_cover_idx`` (index-only),
        and aggregated per customer with one set of filtered aggregates per
        rule (no row multiplied by the number of rules): the count in the
        window, its oldest touch, the last touch inside the gap. Only customers
        at, or one message from, a rule's maximum need the window's newest
        dates (a short backward index range each). From them, per rule: the
        messages still allowed now (``capacity``) and when the rule frees once
        they are sent, the same decisions as ``tools.pressure.rule_capacity``;
        per customer, the rule with the least capacity, then the strictest.

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
        rule_rows, counts, oldest, gaps = [], [], [], []
        since = now
        limits = [
            (
                rule.id,
                rule.sequence,
                rule.channel,
                rule.max_count,
                rule.period_days,
                rule.min_interval_hours,
                rule.max_pressure,
                False,
            )
            for rule in rules
        ]
        if personal_channel:
            limits.append((None, 0, personal_channel, None, PERSONAL_PERIOD_DAYS, 0, 0.0, True))
        for index, (
            rule_id,
            sequence,
            rule_channel,
            max_count,
            period_days,
            gap_hours,
            max_pressure,
            personal,
        ) in enumerate(limits, start=1):
            window_start = now - timedelta(days=period_days)
            gap_start = now - timedelta(hours=gap_hours)
            since = min(since, window_start, gap_start)
            channel_ok = SQL("TRUE") if rule_channel == "all" else SQL("i.channel = %s", rule_channel)
            in_window = SQL("%s AND i.date > %s", channel_ok, window_start)
            counts.append(SQL("count(*) FILTER (WHERE %s)", in_window))
            oldest.append(SQL("min(i.date) FILTER (WHERE %s)", in_window))
            gaps.append(
                SQL("max(i.date) FILTER (WHERE %s AND i.date > %s)", channel_ok, gap_start)
                if gap_hours
                else SQL("NULL::timestamp")
            )
            rule_rows.append(
                SQL(
                    "(%s, %s::int, %s, %s, %s::int, %s::int, %s::int, %s::timestamp, %s::float, %s)",
                    index,
                    rule_id,
                    sequence,
                    rule_channel,
                    max_count or None,  # 0: a pressure cap alone, no count limit
                    period_days,
                    gap_hours,
                    window_start,
                    max_pressure or None,
                    personal,
                )
            )
        if not limits:
            return SQL(
                "SELECT t.key, t.partner_id, NULL::int, NULL::timestamp, NULL::int, NULL::int FROM (%s) t", targets
            )
        now_sql = SQL("%s::timestamp", now)
        half_life = max(company.ecrm_pressure_half_life_days or DEFAULT_HALF_LIFE_DAYS, 1) if weight else 1
        # The features no rule uses leave the statement: no weighted pressure
        # without a cap, no customers' own limits without a personal channel
        # (and only the customers who set one), no audience without an
        # "unresponsive only" rule.
        if weight is not None:
            # one more index range per customer, as the profile reads it
            pressure = SQL(
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
            personal_join = SQL("LEFT JOIN personal pc ON r.personal AND pc.partner_id = c.partner_id")
            personal_cap = SQL("pc.cap")
        else:
            personal = personal_join = SQL()
            personal_cap = SQL("NULL::int")
        audience = (
            SQL("AND %s", self._ecrm_audience_sql(company, channel))
            if any(rule.unresponsive_only for rule in rules)
            else SQL()
        )
        return SQL(
            """
            WITH targets AS (%(targets)s),
            customers AS MATERIALIZED (SELECT DISTINCT partner_id FROM targets),
            rules (idx, id, sequence, channel, max_count, period_days, min_interval_hours, window_start,
                   max_pressure, personal)
            AS MATERIALIZED (
                SELECT v.*, (SELECT array_agg(rel.segment_id)
                               FROM ecrm_pressure_rule_segment_rel rel
                              WHERE rel.rule_id = v.column2) AS segment_ids,
                       (SELECT pr.unresponsive_only FROM ecrm_pressure_rule pr
                         WHERE pr.id = v.column2) AS unresponsive_only
                  FROM (VALUES %(rule_rows)s) v
            )%(personal)s,
            figures AS MATERIALIZED (
                -- per customer, one index range of the log (an aggregate without
                -- GROUP BY: one row even without touches), no join to estimate
                SELECT c.partner_id, s.counts, s.oldest, s.gaps, %(pressure_value)s AS pressure
                  FROM customers c
                 CROSS JOIN LATERAL (
                    SELECT ARRAY[%(counts)s] AS counts,
                           ARRAY[%(oldest)s] AS oldest,
                           ARRAY[%(gaps)s] AS gaps
                      FROM ecrm_interaction i
                     WHERE i.company_id = %(company)s
                       AND i.commercial_partner_id = c.partner_id
                       AND i.category = %(category)s
                       AND i.direction = 'outbound'
                       AND i.date > %(since)s
                 ) s
                 %(pressure)s
            ),
            pairs AS MATERIALIZED (
                SELECT c.partner_id, r.id AS rule_id, r.sequence, r.channel,
                       CASE WHEN r.personal THEN %(personal_cap)s ELSE r.max_count END AS max_count,
                       r.period_days, r.min_interval_hours, r.window_start, r.max_pressure,
                       r.personal AND %(personal_cap)s = 0 AS off, c.pressure,
                       c.counts[r.idx] AS cnt, c.oldest[r.idx] AS oldest, c.gaps[r.idx] AS gap_date
                  FROM figures c
                 CROSS JOIN rules r
                 %(personal_join)s
                 WHERE CASE WHEN r.personal THEN %(personal_cap)s IS NOT NULL
                            ELSE (r.segment_ids IS NULL
                                  OR EXISTS (SELECT 1 FROM ecrm_rfm_score rs
                                              WHERE rs.partner_id = c.partner_id
                                                AND rs.company_id = %(company)s
                                                AND rs.segment_id = ANY(r.segment_ids)))
                                 %(audience)s
                       END
            ),
            capacities AS (
                SELECT p.*,
                       -- the count and the gap (NULL: the rule has neither)
                       CASE WHEN p.cnt >= p.max_count OR p.gap_date IS NOT NULL THEN 0
                            WHEN p.min_interval_hours > 0 THEN 1
                            ELSE p.max_count - p.cnt
                       END AS count_capacity,
                       CASE WHEN p.cnt >= p.max_count OR p.gap_date IS NOT NULL
                            THEN GREATEST(
                                CASE WHEN p.cnt >= p.max_count
                                     THEN p.dates[p.max_count] + make_interval(days => p.period_days) END,
                                p.gap_date + make_interval(hours => p.min_interval_hours))
                            WHEN p.min_interval_hours > 0
                            THEN GREATEST(
                                %(now)s + make_interval(hours => p.min_interval_hours),
                                CASE WHEN p.cnt + 1 >= p.max_count
                                     THEN COALESCE(p.dates[p.max_count - 1], %(now)s)
                                          + make_interval(days => p.period_days) END)
                            WHEN p.max_count IS NOT NULL
                            THEN COALESCE(p.oldest, %(now)s) + make_interval(days => p.period_days)
                       END AS count_until,
                       -- the weighted pressure (NULL: no cap, or messages that weigh nothing)
                       CASE WHEN p.max_pressure IS NOT NULL AND %(weight)s > 0
                            THEN GREATEST(floor((p.max_pressure - p.pressure) / %(weight)s + %(epsilon)s), 0)::int
                       END AS pressure_capacity
                  FROM (
                    SELECT p.*,
                           CASE WHEN p.cnt >= p.max_count - 1 THEN ARRAY(
                               SELECT i.date
                                 FROM ecrm_interaction i
                                WHERE i.company_id = %(company)s
                                  AND i.commercial_partner_id = p.partner_id
                                  AND i.category = %(category)s
                                  AND i.direction = 'outbound'
                                  AND (p.channel = 'all' OR i.channel = p.channel)
                                  AND i.date > p.window_start
                                ORDER BY i.date DESC
                                LIMIT p.max_count) END AS dates
                      FROM pairs p
                  ) p
            ),
            limits AS (
                SELECT p.partner_id, p.rule_id, p.sequence,
                       CASE WHEN p.off THEN 0 ELSE LEAST(p.count_capacity, p.pressure_capacity) END AS capacity,
                       CASE WHEN p.off THEN 'infinity'::timestamp
                            ELSE GREATEST(
                                CASE WHEN p.pressure_capacity IS NULL OR p.count_capacity <= p.pressure_capacity
                                     THEN p.count_until END,
                                -- once its messages are sent, the pressure frees when it has
                                -- decayed to the cap minus one message (never if one exceeds it)
                                CASE WHEN p.count_capacity IS NULL OR p.pressure_capacity <= p.count_capacity
                                     THEN CASE WHEN p.max_pressure <= %(weight)s THEN 'infinity'::timestamp
                                               ELSE %(now)s + make_interval(secs => GREATEST(
                                                   %(half_life)s * 86400.0
                                                   * ln((p.pressure + p.pressure_capacity * %(weight)s)
                                                        / (p.max_pressure - %(weight)s)) / ln(2.0), 0.0))
                                          END
                                END)
                       END AS blocked_until
                  FROM capacities p
            ),
            strictest AS (
                SELECT DISTINCT ON (partner_id) partner_id, capacity, blocked_until, sequence, rule_id
                  FROM limits
                 WHERE capacity IS NOT NULL
                 ORDER BY partner_id, capacity, blocked_until DESC, sequence, rule_id
            )
            SELECT t.key, t.partner_id, s.capacity, s.blocked_until, s.sequence, s.rule_id
              FROM targets t
              LEFT JOIN strictest s ON s.partner_id = t.partner_id
            """,
            targets=targets,
            rule_rows=SQL(", ").join(rule_rows),
            personal=personal,
            pressure=pressure,
            counts=SQL(", ").join(counts),
            oldest=SQL(", ").join(oldest),
            gaps=SQL(", ").join(gaps),
            company=company.id,
            category=category,
            audience=audience,
            personal_join=personal_join,
            personal_cap=personal_cap,
            pressure_value=pressure_value,
            since=since,
            now=now_sql,
            weight=SQL("%s::float", weight or 0.0),
            epsilon=PRESSURE_EPSILON,
            half_life=half_life,
        )
