# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.tools import SQL

from .ecrm_interaction_response import ANSWERED

# The channels whose marketing sends are answered through traces.
RESPONSE_CHANNELS = [("email", "Email"), ("sms", "SMS")]
# The partner fields that show the current company's rows -> (channel, ecrm.response.score field).
RESPONSE_PARTNER_FIELDS = {
    f"ecrm_{channel}_{name}": (channel, name)
    for channel, _label in RESPONSE_CHANNELS
    for name in ("response_rate", "last_response_date", "unresponsive")
}


class EcrmResponseScore(models.Model):
    """How one customer answers the marketing of one company on one channel:
    over its last N marketing sends (mass mailings and SMS logged as outbound
    marketing touches) within the window, the share opened, clicked or replied
    to, the date of its last answer, and whether the last K sends all went
    unanswered (N, K and the window: company settings).

    Rewritten in one statement per refresh (``_ecrm_refresh``) from the
    interaction log: the sends logged by the mailings, the answers folded from
    their traces (``mailing.trace._ecrm_fold_responses``).
    """

    _name = "ecrm.response.score"
    _description = "Customer Response"
    _order = "company_id, partner_id, channel"
    _rec_name = "partner_id"
    _log_access = False

    partner_id = fields.Many2one("res.partner", string="Customer", required=True, ondelete="cascade", readonly=True)
    company_id = fields.Many2one("res.company", required=True, ondelete="cascade", readonly=True)
    channel = fields.Selection(RESPONSE_CHANNELS, required=True, readonly=True)
    sends = fields.Integer(readonly=True, help="Marketing sends counted (the last N in the window).")
    responses = fields.Integer(string="Answered", readonly=True, help="Sends among them opened, clicked or replied to.")
    response_rate = fields.Float(
        string="Response Rate (%)", readonly=True, aggregator="avg", help="Answered sends per 100 sends counted."
    )
    last_response_date = fields.Datetime(string="Last Response", readonly=True, aggregator="max")
    unresponsive = fields.Boolean(
        readonly=True, help="None of the last K marketing sends in the window was opened, clicked or replied to."
    )

    _sql_constraints = [
        ("partner_company_channel_uniq", "UNIQUE(partner_id, company_id, channel)", "One row per customer and channel.")
    ]

    @api.model
    def _ecrm_refresh(self, companies=None, partner_ids=None, now=None):
        """Recompute the rows of ``companies`` (default: every company), only
        for the commercial partners ``partner_ids`` when given: one statement
        upserting what changed and deleting the rows left without sends or
        answers, then the copy on the RFM scores (see ``ecrm.rfm.score``)."""
        now = now or fields.Datetime.now()
        companies = companies if companies is not None else self.env["res.company"].sudo().search([])
        if not companies or (partner_ids is not None and not partner_ids):
            return
        self.env["ecrm.interaction"].flush_model()
        self.env["res.company"].flush_model(
            ["ecrm_response_sends", "ecrm_unresponsive_sends", "ecrm_response_window_days"]
        )
        self.flush_model()
        self.env.cr.execute(self._ecrm_refresh_sql(companies, partner_ids, now))
        self.env["ecrm.rfm.score"]._ecrm_copy_responses(companies, partner_ids)
        self.invalidate_model()

    @api.model
    def _ecrm_refresh_sql(self, companies, partner_ids, now):
        def partners(column):
            return SQL("TRUE") if partner_ids is None else SQL("%s = ANY(%s)", column, list(partner_ids))

        return SQL(
            """
            WITH cfg AS MATERIALIZED (
                SELECT id AS company_id, ecrm_response_sends AS n, ecrm_unresponsive_sends AS k,
                       %(now)s::timestamp - make_interval(days => ecrm_response_window_days) AS since
                  FROM res_company
                 WHERE id = ANY(%(companies)s)
            ),
            sends AS (
                SELECT i.company_id, i.commercial_partner_id AS partner_id, i.channel, i.res_id, cfg.n, cfg.k,
                       row_number() OVER (PARTITION BY i.company_id, i.commercial_partner_id, i.channel
                                              ORDER BY i.date DESC, i.id DESC) AS rn
                  FROM ecrm_interaction i
                  JOIN cfg ON cfg.company_id = i.company_id
                 WHERE i.direction = 'outbound'
                   AND i.category = 'marketing'
                   AND i.res_model = 'mailing.mailing'
                   AND i.channel IN ('email', 'sms')
                   AND i.date > cfg.since
                   AND i.date <= %(now)s
                   AND %(send_scope)s
            ),
            answered AS (
                SELECT s.company_id, s.partner_id, s.channel, s.rn, s.n, s.k,
                       EXISTS (SELECT 1
                                 FROM ecrm_interaction r
                                WHERE r.partner_id = s.partner_id
                                  AND r.res_id = s.res_id
                                  AND r.ecrm_response IN %(answered)s
                                  AND r.res_model = 'mailing.mailing') AS hit
                  FROM sends s
                 WHERE s.rn <= GREATEST(s.n, s.k)
            ),
            counts AS (
                SELECT company_id, partner_id, channel,
                       count(*) FILTER (WHERE rn <= n) AS sends,
                       count(*) FILTER (WHERE rn <= n AND hit) AS responses,
                       count(*) FILTER (WHERE rn <= k) >= min(k) AND NOT bool_or(hit) FILTER (WHERE rn <= k)
                           AS unresponsive
                  FROM answered
                 GROUP BY company_id, partner_id, channel
            ),
            lasts AS (
                SELECT r.company_id, r.commercial_partner_id AS partner_id, r.channel, max(r.date) AS last_date
                  FROM ecrm_interaction r
                 WHERE r.ecrm_response IN %(answered)s
                   AND r.company_id = ANY(%(companies)s)
                   AND r.date <= %(now)s
                   AND %(answer_scope)s
                 GROUP BY r.company_id, r.commercial_partner_id, r.channel
            ),
            figures AS (
                SELECT COALESCE(c.partner_id, l.partner_id) AS partner_id,
                       COALESCE(c.company_id, l.company_id) AS company_id,
                       COALESCE(c.channel, l.channel) AS channel,
                       COALESCE(c.sends, 0) AS sends,
                       COALESCE(c.responses, 0) AS responses,
                       CASE WHEN c.sends > 0 THEN round(100.0 * c.responses / c.sends, 2) END AS response_rate,
                       l.last_date,
                       COALESCE(c.unresponsive, FALSE) AS unresponsive
                  FROM counts c
                  FULL JOIN lasts l
                    ON l.company_id = c.company_id AND l.partner_id = c.partner_id AND l.channel = c.channel
            ),
            upserted AS (
                INSERT INTO ecrm_response_score AS s
                       (partner_id, company_id, channel, sends, responses, response_rate, last_response_date,
                        unresponsive)
                SELECT partner_id, company_id, channel, sends, responses, response_rate, last_date, unresponsive
                  FROM figures
                    ON CONFLICT (partner_id, company_id, channel) DO UPDATE
                   SET sends = EXCLUDED.sends,
                       responses = EXCLUDED.responses,
                       response_rate = EXCLUDED.response_rate,
                       last_response_date = EXCLUDED.last_response_date,
                       unresponsive = EXCLUDED.unresponsive
                 WHERE (s.sends, s.responses, s.response_rate, s.last_response_date, s.unresponsive)
                       IS DISTINCT FROM (EXCLUDED.sends, EXCLUDED.responses, EXCLUDED.response_rate,
                                         EXCLUDED.last_response_date, EXCLUDED.unresponsive)
            )
            DELETE FROM ecrm_response_score s
             WHERE s.company_id = ANY(%(companies)s)
               AND %(score_scope)s
               AND NOT EXISTS (SELECT 1 FROM figures f
                                WHERE f.partner_id = s.partner_id
                                  AND f.company_id = s.company_id
                                  AND f.channel = s.channel)
            """,
            now=now,
            companies=companies.ids,
            answered=ANSWERED,
            send_scope=partners(SQL("i.commercial_partner_id")),
            answer_scope=partners(SQL("r.commercial_partner_id")),
            score_scope=partners(SQL("s.partner_id")),
        )

    @api.model
    def _cron_ecrm_refresh(self):
        """Daily: the sends of the day and those leaving the window move every
        customer's figures, answered or not."""
        # sudo: the figures are the company's, whoever runs the cron
        self.sudo()._ecrm_refresh()
