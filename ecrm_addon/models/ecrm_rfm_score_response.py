# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.tools import SQL


class EcrmRfmScore(models.Model):
    """The customer's response figures beside its RFM scores, for the RFM
    analysis (measures and groupings per segment): a copy of its
    ``ecrm.response.score`` rows, written by each refresh of them (the fold,
    and the daily refresh that runs after the nightly RFM run, so the rows a
    run creates get theirs; the RFM run itself stays as it was)."""

    _inherit = "ecrm.rfm.score"

    email_response_rate = fields.Float(
        string="Email Response Rate (%)",
        readonly=True,
        aggregator="avg",
        help="Share of the customer's last marketing emails opened, clicked or replied to; empty without sends.",
    )
    sms_response_rate = fields.Float(
        string="SMS Response Rate (%)",
        readonly=True,
        aggregator="avg",
        help="Share of the customer's last marketing SMS clicked; empty without sends.",
    )
    email_unresponsive = fields.Boolean(string="Unresponsive by Email", readonly=True)
    sms_unresponsive = fields.Boolean(string="Unresponsive by SMS", readonly=True)

    @api.model
    def _ecrm_copy_responses(self, companies, partner_ids=None):
        """Copy the response figures of ``companies`` (only of ``partner_ids``
        when given) onto their RFM score rows: one statement, rows that change only."""
        self.flush_model()
        scope = SQL("TRUE") if partner_ids is None else SQL("rs.partner_id = ANY(%s)", list(partner_ids))
        self.env.cr.execute(
            SQL(
                """
                UPDATE ecrm_rfm_score rs
                   SET email_response_rate = f.email_rate, sms_response_rate = f.sms_rate,
                       email_unresponsive = f.email_unresponsive, sms_unresponsive = f.sms_unresponsive
                  FROM (
                    SELECT rs.id,
                           e.response_rate AS email_rate, s.response_rate AS sms_rate,
                           COALESCE(e.unresponsive, FALSE) AS email_unresponsive,
                           COALESCE(s.unresponsive, FALSE) AS sms_unresponsive
                      FROM ecrm_rfm_score rs
                      LEFT JOIN ecrm_response_score e
                        ON e.partner_id = rs.partner_id AND e.company_id = rs.company_id AND e.channel = 'email'
                      LEFT JOIN ecrm_response_score s
                        ON s.partner_id = rs.partner_id AND s.company_id = rs.company_id AND s.channel = 'sms'
                     WHERE rs.company_id = ANY(%(companies)s) AND %(scope)s
                  ) f
                 WHERE rs.id = f.id
                   AND (rs.email_response_rate, rs.sms_response_rate, rs.email_unresponsive, rs.sms_unresponsive)
                       IS DISTINCT FROM (f.email_rate, f.sms_rate, f.email_unresponsive, f.sms_unresponsive)
                """,
                companies=companies.ids,
                scope=scope,
            )
        )
        self.invalidate_model(["email_response_rate", "sms_response_rate", "email_unresponsive", "sms_unresponsive"])
