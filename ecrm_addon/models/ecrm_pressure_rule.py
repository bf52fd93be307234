from collections import namedtuple

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from .ecrm_interaction import CATEGORIES

# Categories a rule may limit. Transactional and service messages (order
# confirmation, invoice, case replies) are never blocked.
BLOCKABLE_CATEGORIES = ("marketing", "sales")

# What the engine says about one recipient key: the commercial partners it
# resolves to, and the strictest blocking rule (id and the moment it frees),
# both False when nothing blocks.
Verdict = namedtuple("Verdict", ["partner_ids", "rule_id", "blocked_until"])


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
        help="Empty: the rule applies in every company.",
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

    # ------------------------------------------------------------------
    # Engine
    # ------------------------------------------------------------------

    @api.model
    def _ecrm_resolve_sql(self, channel, keys):
        """The SQL resolving recipient keys to commercial partners: rows (key, partner_id).

        ``channel`` email: keys are normalised emails; sms/phone: E.164 numbers.
        The one place that knows how an address leads to a customer: through
        the identity keys (``ecrm_email_key``, ``ecrm_phone_key``, indexed).
        """
        column = "ecrm_email_key" if channel == "email" else "ecrm_phone_key"
        return SQL(
            """
            SELECT DISTINCT p.%(column)s AS key, p.commercial_partner_id AS partner_id
              FROM res_partner p
             WHERE p.%(column)s = ANY(%(keys)s::varchar[]) AND p.active
            """,
            column=SQL.identifier(column),
            keys=list(keys),
        )

    @api.model
    def _ecrm_check(self, company, channel, category, partner_ids=None, keys=None, now=None):
        """Which recipients the active rules block now: one query for the whole batch.

        Give either ``partner_ids`` (commercial partners, used as keys) or
        ``keys`` (normalised emails for email, E.164 numbers for sms/phone).
        Returns ``{key: Verdict(partner_ids, rule_id, blocked_until)}`` for every
        key that resolves to at least one customer; ``rule_id`` is False when
        no rule blocks. A key resolving to several customers is blocked when
        one of them is (by the rule that blocks longest).
        Transactional and service messages are never blocked.
        """
        now = now or fields.Datetime.now()
        keys = [key for key in keys or () if key]
        if not (partner_ids or keys):
            return {}
        if partner_ids:
            targets = SQL(
                "SELECT pid AS key, pid AS partner_id FROM unnest(%s::int[]) AS pid",
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
            self.sudo().search(
                [
                    ("category", "=", category),
                    ("channel", "in", [channel, "all"]),
                    ("company_id", "in", [company.id, False]),
                ]
            )
            if blockable
            else self.browse()
        )
        query = SQL(
            """
            WITH targets AS (%(targets)s),
            rules AS (
                SELECT r.id, r.sequence, r.channel, r.max_count, r.period_days, r.min_interval_hours,
                       (SELECT array_agg(rel.segment_id)
                          FROM ecrm_pressure_rule_segment_rel rel
                         WHERE rel.rule_id = r.id) AS segment_ids
                  FROM ecrm_pressure_rule r
                 WHERE r.id = ANY(%(rule_ids)s::int[])
            ),
            pairs AS (
                SELECT c.partner_id, r.*
                  FROM (SELECT DISTINCT partner_id FROM targets) c
                  JOIN rules r
                    ON r.segment_ids IS NULL
                    OR EXISTS (SELECT 1 FROM ecrm_rfm_score s
                                WHERE s.partner_id = c.partner_id
                                  AND s.company_id = %(company)s
                                  AND s.segment_id = ANY(r.segment_ids))
            ),
            verdicts AS (
                SELECT p.partner_id, p.id AS rule_id, p.sequence,
                       GREATEST(
                           CASE WHEN st.cnt >= p.max_count
                                THEN st.kth_date + make_interval(days => p.period_days) END,
                           CASE WHEN st.last_date > %(now)s - make_interval(hours => p.min_interval_hours)
                                THEN st.last_date + make_interval(hours => p.min_interval_hours) END
                       ) AS blocked_until
                  FROM pairs p
                 CROSS JOIN LATERAL (
                    SELECT count(*) FILTER (WHERE i.date > %(now)s - make_interval(days => p.period_days)) AS cnt,
                           max(i.date) AS last_date,
                           (array_agg(i.date ORDER BY i.date DESC)
                               FILTER (WHERE i.date > %(now)s - make_interval(days => p.period_days))
                           )[p.max_count] AS kth_date
                      FROM ecrm_interaction i
                     WHERE i.commercial_partner_id = p.partner_id
                       AND i.direction = 'outbound'
                       AND i.category = %(category)s
                       AND (p.channel = 'all' OR i.channel = p.channel)
                       AND i.company_id = %(company)s
                       AND i.date > %(now)s - GREATEST(make_interval(days => p.period_days),
                                                       make_interval(hours => p.min_interval_hours))
                 ) st
            ),
            blocked AS (
                SELECT DISTINCT ON (partner_id) partner_id, rule_id, sequence, blocked_until
                  FROM verdicts
                 WHERE blocked_until IS NOT NULL
                 ORDER BY partner_id, blocked_until DESC, sequence, rule_id
            )
            SELECT t.key, t.partner_id, b.rule_id, b.sequence, b.blocked_until
              FROM targets t
              LEFT JOIN blocked b ON b.partner_id = t.partner_id
             ORDER BY t.key, b.blocked_until DESC NULLS LAST, b.sequence, b.rule_id
            """,
            targets=targets,
            rule_ids=rules.ids,
            company=company.id,
            category=category,
            now=now,
        )
        self.env.cr.execute(query)
        result = {}
        for key, partner_id, rule_id, _sequence, blocked_until in self.env.cr.fetchall():
            verdict = result.get(key)
            if verdict is None:
                # rows come strictest first per key
                result[key] = Verdict([partner_id], rule_id or False, blocked_until or False)
            else:
                verdict.partner_ids.append(partner_id)
        return result
