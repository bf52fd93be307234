# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models
from odoo.addons.rating.models import rating_data
from odoo.tools import SQL

ECRM_USER = "ecrm_addon.group_ecrm_user"


class ResPartner(models.Model):
    """Customer 360: how satisfied the customer is with the cases they rated."""

    _inherit = "res.partner"

    ecrm_rating_count = fields.Integer(string="Rated Cases", compute="_compute_ecrm_rating", groups=ECRM_USER)
    ecrm_csat = fields.Float(
        string="CSAT (%)",
        compute="_compute_ecrm_rating",
        groups=ECRM_USER,
        help="Share of the customer's case ratings that are happy (Satisfied).",
    )
    ecrm_last_rating_text = fields.Selection(
        rating_data.RATING_TEXT, string="Last Rating", compute="_compute_ecrm_rating", groups=ECRM_USER
    )
    ecrm_last_rating_feedback = fields.Text(
        string="Last Rating Comment", compute="_compute_ecrm_rating", groups=ECRM_USER
    )

    def _compute_ecrm_rating(self):
        """The ratings of the cases of each commercial partner (its contacts'
        included), in the user's companies, with one query for the recordset."""
        commercials = self.commercial_partner_id.filtered("id")
        stats = {}
        if commercials:
            self.env["rating.rating"].flush_model(["res_model", "res_id", "rating", "consumed", "feedback"])
            self.env["ecrm.case"].flush_model(["commercial_partner_id", "company_id"])
            rows = self.env.execute_query(
                SQL(
                    """
                    SELECT c.commercial_partner_id, count(*),
                           count(*) FILTER (WHERE r.rating >= %(happy)s),
                           (array_agg(r.rating_text ORDER BY r.write_date DESC, r.id DESC))[1],
                           (array_agg(r.feedback ORDER BY r.write_date DESC, r.id DESC))[1]
                      FROM rating_rating r
                      JOIN ecrm_case c ON c.id = r.res_id
                     WHERE r.res_model = 'ecrm.case' AND r.consumed AND r.rating >= %(rated)s
                       AND c.commercial_partner_id = ANY(%(commercials)s)
                       AND c.company_id = ANY(%(companies)s)
                  GROUP BY c.commercial_partner_id
                    """,
                    happy=rating_data.RATING_LIMIT_SATISFIED,
                    rated=rating_data.RATING_LIMIT_MIN,
                    commercials=commercials.ids,
                    companies=self.env.companies.ids,
                )
            )
            stats = {row[0]: row[1:] for row in rows}
        for partner in self:
            count, happy, text, feedback = stats.get(partner.commercial_partner_id.id, (0, 0, False, False))
            partner.ecrm_rating_count = count
            partner.ecrm_csat = 100.0 * happy / count if count else 0.0
            partner.ecrm_last_rating_text = text
            partner.ecrm_last_rating_feedback = feedback
