# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from collections import namedtuple
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from ..tools.pressure import strictest
from .ecrm_interaction import CATEGORIES

# Categories a rule may limit. Transactional and service messages (order
# confirmation, invoice, case replies) are never blocked.
BLOCKABLE_CATEGORIES = ("marketing", "sales")

# What the engine says about one recipient key: the commercial partners it
# resolves to; the strictest rule blocking it now (id and the moment it frees),
# both False when nothing blocks; and ``limits``: ``{partner_id: (capacity,
# blocked_until, sequence, rule_id)}``, how many more messages each customer
# with a rule may receive now and the strictest rule once they are sent
# (``tools.pressure.allocate`` shares them among the records of a batch).
Verdict = namedtuple("Verdict", ["partner_ids", "rule_id", "blocked_until", "limits"])


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

    @api.depends("max_count", "period_days", "min_interval_hours", "channel")
    def _compute_description(self):
        channels = dict(self._fields["channel"]._description_selection(self.env))
        for rule in self:
            text = self.env._(
                "%(count)s per %(days)s days on %(channel)s",
                count=rule.max_count,
                days=rule.period_days,
                channel=channels.get(rule.channel, ""),
            )
            if rule.min_interval_hours:
                text += self.env._(", %(hours)s h between two", hours=rule.min_interval_hours)
            rule.description = text

    @api.constrains("max_count", "period_days", "min_interval_hours", "category")
    def _check_limits(self):
        for rule in self:
            if rule.max_count < 1:
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
        for every key that resolves to at least one customer; ``rule_id`` is
        False when no rule blocks now. A key resolving to several customers is
        blocked when one of them is (by the rule that blocks longest).
        ``limits`` tells how many more messages each customer may receive now
        (see ``Verdict``). Transactional and service messages are never blocked.
        """
        now = now or fields.Datetime.now()
        keys = [key for key in keys or () if key]
        if not (partner_ids or keys):
            return {}
        if partner_ids:
            targets = SQL(
                "SELECT DISTINCT pid AS key, pid AS partner_id FROM unnest(%s::int[]) AS pid",
                list(partner_ids),
            )
        else:
            targets = self._ecrm_resolve_sql(channel, keys)
        blockable = category in BLOCKABLE_CATEGORIES
        for model in ("ecrm.pressure.rule", "ecrm.interaction", "ecrm.rfm.score"):
            self.env[model].flush_model()
        # Only what the SQL reads of partners: a compute calling this while a
        # form is read must not flush unrelated pending writes.
        self.env["res.partner"].flush_model(["ecrm_email_key", "ecrm_phone_key", "commercial_partner_id", "active"])
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
                ["sequence", "channel", "max_count", "period_days", "min_interval_hours"],
            )
            if blockable
            else self.browse()
        )
        self.env["ecrm.response.score"].flush_model()
        self.env.cr.execute(self._ecrm_check_sql(company, category, targets, rules, now, channel=channel))
        result, blocking = {}, {}
        for key, partner_id, capacity, blocked_until, sequence, rule_id in self.env.cr.fetchall():
            verdict = result.get(key)
            if verdict is None:
                verdict = result[key] = Verdict([partner_id], False, False, {})
            else:
                verdict.partner_ids.append(partner_id)
            if capacity is None:
                continue
            verdict.limits[partner_id] = (capacity, blocked_until, sequence, rule_id)
            if not capacity:
                # a key reaching several customers: the strictest rule blocking one of them
                blocking[key] = strictest([(blocked_until, sequence, rule_id), blocking.get(key, (None,))])
        for key, (blocked_until, _sequence, rule_id) in blocking.items():
            result[key] = result[key]._replace(rule_id=rule_id, blocked_until=blocked_until)
        for verdict in result.values():
            if len(verdict.partner_ids) > 1:
                verdict.partner_ids.sort()
        return result

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
    def _ecrm_check_sql(self, company, category, targets, rules, now, channel=None):
        """The statement of ``_ecrm_check``: rows ``(key, partner_id, capacity,
        blocked_until, sequence, rule_id)``, the last four NULL for a customer
        no rule applies to.

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
        """
        rule_rows, counts, oldest, gaps = [], [], [], []
        since = now
        for index, rule in enumerate(rules, start=1):
            window_start = now - timedelta(days=rule.period_days)
            gap_start = now - timedelta(hours=rule.min_interval_hours)
            since = min(since, window_start, gap_start)
            channel_ok = SQL("TRUE") if rule.channel == "all" else SQL("i.channel = %s", rule.channel)
            in_window = SQL("%s AND i.date > %s", channel_ok, window_start)
            counts.append(SQL("count(*) FILTER (WHERE %s)", in_window))
            oldest.append(SQL("min(i.date) FILTER (WHERE %s)", in_window))
            gaps.append(
                SQL("max(i.date) FILTER (WHERE %s AND i.date > %s)", channel_ok, gap_start)
                if rule.min_interval_hours
                else SQL("NULL::timestamp")
            )
            rule_rows.append(
                SQL(
                    "(%s, %s, %s, %s, %s, %s, %s, %s::timestamp)",
                    index,
                    rule.id,
                    rule.sequence,
                    rule.channel,
                    rule.max_count,
                    rule.period_days,
                    rule.min_interval_hours,
                    window_start,
                )
            )
        if not rules:
            return SQL(
                "SELECT t.key, t.partner_id, NULL::int, NULL::timestamp, NULL::int, NULL::int FROM (%s) t", targets
            )
        return SQL(
            """
            WITH targets AS (%(targets)s),
            customers AS MATERIALIZED (SELECT DISTINCT partner_id FROM targets),
            rules (idx, id, sequence, channel, max_count, period_days, min_interval_hours, window_start)
            AS MATERIALIZED (
                SELECT v.*, (SELECT array_agg(rel.segment_id)
                               FROM ecrm_pressure_rule_segment_rel rel
                              WHERE rel.rule_id = v.column2) AS segment_ids,
                       (SELECT pr.unresponsive_only FROM ecrm_pressure_rule pr
                         WHERE pr.id = v.column2) AS unresponsive_only
                  FROM (VALUES %(rule_rows)s) v
            ),
            stats AS (
                SELECT c.partner_id,
                       ARRAY[%(counts)s] AS counts,
                       ARRAY[%(oldest)s] AS oldest,
                       ARRAY[%(gaps)s] AS gaps
                  FROM customers c
                  JOIN ecrm_interaction i
                    ON i.company_id = %(company)s
                   AND i.commercial_partner_id = c.partner_id
                   AND i.category = %(category)s
                   AND i.direction = 'outbound'
                   AND i.date > %(since)s
                 GROUP BY c.partner_id
            ),
            pairs AS (
                SELECT c.partner_id, r.id AS rule_id, r.sequence, r.channel, r.max_count, r.period_days,
                       r.min_interval_hours, r.window_start,
                       COALESCE(s.counts[r.idx], 0) AS cnt, s.oldest[r.idx] AS oldest, s.gaps[r.idx] AS gap_date
                  FROM customers c
                  JOIN rules r
                    ON (r.segment_ids IS NULL
                        OR EXISTS (SELECT 1 FROM ecrm_rfm_score rs
                                    WHERE rs.partner_id = c.partner_id
                                      AND rs.company_id = %(company)s
                                      AND rs.segment_id = ANY(r.segment_ids)))
                   AND %(audience)s
                  LEFT JOIN stats s ON s.partner_id = c.partner_id
            ),
            limits AS (
                SELECT p.partner_id, p.rule_id, p.sequence,
                       CASE WHEN p.cnt >= p.max_count OR p.gap_date IS NOT NULL THEN 0
                            WHEN p.min_interval_hours > 0 THEN 1
                            ELSE p.max_count - p.cnt
                       END AS capacity,
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
                            ELSE COALESCE(p.oldest, %(now)s) + make_interval(days => p.period_days)
                       END AS blocked_until
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
            strictest AS (
                SELECT DISTINCT ON (partner_id) partner_id, capacity, blocked_until, sequence, rule_id
                  FROM limits
                 ORDER BY partner_id, capacity, blocked_until DESC, sequence, rule_id
            )
            SELECT t.key, t.partner_id, s.capacity, s.blocked_until, s.sequence, s.rule_id
              FROM targets t
              LEFT JOIN strictest s ON s.partner_id = t.partner_id
            """,
            targets=targets,
            rule_rows=SQL(", ").join(rule_rows),
            counts=SQL(", ").join(counts),
            oldest=SQL(", ").join(oldest),
            gaps=SQL(", ").join(gaps),
            company=company.id,
            category=category,
            audience=self._ecrm_audience_sql(company, channel),
            since=since,
            now=now,
        )
