# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""RFM figures of the customer: the current company's row of ecrm.rfm.score."""

from odoo import api, fields, models
from odoo.osv import expression

from .ecrm_rfm_score import RFM_SCORE_FIELDS, ecrm_empty_matches


class ResPartner(models.Model):
    _inherit = "res.partner"

    # The figures live in the narrow ecrm.rfm.score table (one row per company
    # and commercial partner); the partner shows the current company's row.

    ecrm_recency_days = fields.Integer(
        string="Recency (days)",
        compute="_compute_ecrm_rfm",
        search="_search_ecrm_recency_days",
        groups="ecrm_addon.group_ecrm_user",
        help="Days since the last purchase in the RFM window (current company).",
    )
    ecrm_frequency = fields.Integer(
        string="Frequency",
        compute="_compute_ecrm_rfm",
        search="_search_ecrm_frequency",
        groups="ecrm_addon.group_ecrm_user",
        help="Purchases in the RFM window (current company).",
    )
    ecrm_monetary = fields.Monetary(
        string="Monetary Value",
        compute="_compute_ecrm_rfm",
        search="_search_ecrm_monetary",
        currency_field="ecrm_currency_id",
        groups="ecrm_addon.group_ecrm_user",
        help="Untaxed amount bought in the RFM window, refunds deducted, in the company currency.",
    )
    ecrm_r_score = fields.Integer(
        string="R Score",
        compute="_compute_ecrm_rfm",
        search="_search_ecrm_r_score",
        groups="ecrm_addon.group_ecrm_user",
        help="1 (oldest) to 5 (most recent); 0 = no purchase in the window.",
    )
    ecrm_f_score = fields.Integer(
        string="F Score",
        compute="_compute_ecrm_rfm",
        search="_search_ecrm_f_score",
        groups="ecrm_addon.group_ecrm_user",
        help="1 (fewest purchases) to 5 (most); 0 = no purchase in the window.",
    )
    ecrm_m_score = fields.Integer(
        string="M Score",
        compute="_compute_ecrm_rfm",
        search="_search_ecrm_m_score",
        groups="ecrm_addon.group_ecrm_user",
        help="1 (lowest value) to 5 (highest); 0 = no purchase in the window.",
    )
    ecrm_segment_id = fields.Many2one(
        "ecrm.rfm.segment",
        string="RFM Segment",
        compute="_compute_ecrm_rfm",
        search="_search_ecrm_segment_id",
        groups="ecrm_addon.group_ecrm_user",
    )

    ecrm_rfm_score_ids = fields.One2many(
        "ecrm.rfm.score", "partner_id", string="RFM Scores", groups="ecrm_addon.group_ecrm_user"
    )

    @api.depends_context("company")
    @api.depends("commercial_partner_id")
    def _compute_ecrm_rfm(self):
        commercial_ids = [pid for pid in set(self.commercial_partner_id._origin.ids) if pid]
        rows = {}
        if commercial_ids:
            scores = self.env["ecrm.rfm.score"].search_fetch(
                [("company_id", "=", self.env.company.id), ("partner_id", "in", commercial_ids)],
                ["partner_id", *RFM_SCORE_FIELDS.values()],
            )
            rows = {score.partner_id.id: score for score in scores}
        empty = self.env["ecrm.rfm.score"]
        for partner in self:
            score = rows.get(partner.commercial_partner_id._origin.id, empty)
            for partner_field, score_field in RFM_SCORE_FIELDS.items():
                partner[partner_field] = score[score_field]

    def _search_ecrm_rfm(self, partner_field, operator, value):
        """Partners whose commercial partner's score row (current company)
        matches; partners without a row count as 0 / no segment."""
        score_field = RFM_SCORE_FIELDS[partner_field]
        scores = self.env["ecrm.rfm.score"]
        company_domain = [("company_id", "=", self.env.company.id)]
        matching = scores._search(expression.AND([company_domain, [(score_field, operator, value)]]))
        domain = [("commercial_partner_id", "in", matching.subselect("partner_id"))]
        if ecrm_empty_matches(operator, value, False if partner_field == "ecrm_segment_id" else 0):
            scored = scores._search(company_domain)
            domain = expression.OR([domain, [("commercial_partner_id", "not in", scored.subselect("partner_id"))]])
        return domain

    def _search_ecrm_recency_days(self, operator, value):
        return self._search_ecrm_rfm("ecrm_recency_days", operator, value)

    def _search_ecrm_frequency(self, operator, value):
        return self._search_ecrm_rfm("ecrm_frequency", operator, value)

    def _search_ecrm_monetary(self, operator, value):
        return self._search_ecrm_rfm("ecrm_monetary", operator, value)

    def _search_ecrm_r_score(self, operator, value):
        return self._search_ecrm_rfm("ecrm_r_score", operator, value)

    def _search_ecrm_f_score(self, operator, value):
        return self._search_ecrm_rfm("ecrm_f_score", operator, value)

    def _search_ecrm_m_score(self, operator, value):
        return self._search_ecrm_rfm("ecrm_m_score", operator, value)

    def _search_ecrm_segment_id(self, operator, value):
        return self._search_ecrm_rfm("ecrm_segment_id", operator, value)

    @api.model
    def _ecrm_compute_rfm(self):
        """Recompute the RFM scores of every company (see ecrm.rfm.score)."""
        return self.env["ecrm.rfm.score"]._rfm_refresh_all()
