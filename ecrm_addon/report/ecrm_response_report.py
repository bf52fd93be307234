# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models
from odoo.tools import SQL

from ..models.ecrm_interaction_response import ANSWERED
from ..models.ecrm_response_score import RESPONSE_CHANNELS


class EcrmResponseReport(models.Model):
    """Mailing responses and revenue: per mailing and customer, whether it was
    sent and answered (opened, clicked, replied to) and the orders it brought,
    grouped by mailing, channel and RFM segment.

    Sends and answers come from the interaction log; orders are the confirmed
    sales orders carrying the mailing's UTM source (``mass_mailing_sale``'s
    attribution), their untaxed amount in company currency. A query evaluated
    at read time against the ORM's clock: the rows of each company's response
    window (Settings) up to now.
    """

    _name = "ecrm.response.report"
    _description = "Mailing Responses and Revenue"
    _auto = False
    _order = "date desc"
    _rec_name = "mailing_id"
    _depends = {
        "ecrm.interaction": ["partner_id", "date", "channel", "direction", "category", "res_model", "res_id"],
        "ecrm.rfm.score": ["partner_id", "company_id", "segment_id"],
        "mailing.mailing": ["source_id"],
        "sale.order": ["state", "partner_id", "company_id", "date_order", "amount_untaxed", "source_id"],
    }

    date = fields.Datetime(readonly=True, help="When the mailing was sent to the customer, else its first order.")
    mailing_id = fields.Many2one("mailing.mailing", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    segment_id = fields.Many2one("ecrm.rfm.segment", string="RFM Segment", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    channel = fields.Selection(RESPONSE_CHANNELS, readonly=True)
    sent = fields.Integer(string="# Sent", readonly=True)
    answered = fields.Integer(string="# Answered", readonly=True, help="Sends opened, clicked or replied to.")
    response_rate = fields.Float(
        string="Response Rate (%)",
        readonly=True,
        aggregator="avg",
        help="Answered sends per 100 sends (orders of customers the mailing was not sent to do not count).",
    )
    order_count = fields.Integer(string="# Orders", readonly=True)
    revenue = fields.Monetary(readonly=True, help="Untaxed amount of the orders, in the company currency.")

    @property
    def _table_query(self):
        # The ORM's clock (not the database's), as the response figures.
        now = SQL("%s::timestamp", fields.Datetime.now())
        return SQL(
            """
            WITH cfg AS (
                SELECT c.id AS company_id, c.currency_id,
                       %(now)s - make_interval(days => c.ecrm_response_window_days) AS since
                  FROM res_company c
            ),
            sends AS (
                SELECT i.company_id, i.res_id AS mailing_id, i.commercial_partner_id AS partner_id,
                       min(i.channel) AS channel, min(i.date) AS date,
                       bool_or(EXISTS (SELECT 1 FROM ecrm_interaction r
                                        WHERE r.partner_id = i.commercial_partner_id
                                          AND r.res_id = i.res_id
                                          AND r.ecrm_response IN %(answered)s
                                          AND r.res_model = 'mailing.mailing')) AS hit
                  FROM ecrm_interaction i
                  JOIN cfg ON cfg.company_id = i.company_id
                 WHERE i.direction = 'outbound' AND i.category = 'marketing' AND i.res_model = 'mailing.mailing'
                   AND i.date > cfg.since AND i.date <= %(now)s
                 GROUP BY i.company_id, i.res_id, i.commercial_partner_id
            ),
            orders AS (
                SELECT so.company_id, m.id AS mailing_id, p.commercial_partner_id AS partner_id,
                       CASE WHEN m.mailing_type = 'sms' THEN 'sms' ELSE 'email' END AS channel,
                       min(so.date_order) AS date, count(*) AS order_count,
                       sum(CASE WHEN so.currency_id = cfg.currency_id OR COALESCE(so.currency_rate, 0) = 0
                                THEN so.amount_untaxed
                                ELSE so.amount_untaxed / so.currency_rate::numeric END) AS revenue
                  FROM sale_order so
                  JOIN mailing_mailing m ON m.source_id = so.source_id
                  JOIN res_partner p ON p.id = so.partner_id
                  JOIN cfg ON cfg.company_id = so.company_id
                 WHERE so.state = 'sale' AND so.date_order > cfg.since AND so.date_order <= %(now)s
                 GROUP BY so.company_id, m.id, p.commercial_partner_id, m.mailing_type
            )
            SELECT row_number() OVER (ORDER BY f.company_id, f.mailing_id, f.partner_id) AS id, f.*, rs.segment_id
              FROM (
                SELECT COALESCE(s.company_id, o.company_id) AS company_id,
                       COALESCE(s.mailing_id, o.mailing_id) AS mailing_id,
                       COALESCE(s.partner_id, o.partner_id) AS partner_id,
                       COALESCE(s.channel, o.channel) AS channel,
                       COALESCE(s.date, o.date) AS date,
                       CASE WHEN s.partner_id IS NOT NULL THEN 1 ELSE 0 END AS sent,
                       CASE WHEN s.hit THEN 1 ELSE 0 END AS answered,
                       CASE WHEN s.hit THEN 100.0 WHEN s.partner_id IS NOT NULL THEN 0.0 END AS response_rate,
                       COALESCE(o.order_count, 0) AS order_count,
                       COALESCE(o.revenue, 0) AS revenue
                  FROM sends s
                  FULL JOIN orders o
                    ON o.company_id = s.company_id AND o.mailing_id = s.mailing_id AND o.partner_id = s.partner_id
              ) f
              LEFT JOIN ecrm_rfm_score rs ON rs.partner_id = f.partner_id AND rs.company_id = f.company_id
            """,
            now=now,
            answered=ANSWERED,
        )
