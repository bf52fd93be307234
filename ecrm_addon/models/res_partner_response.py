# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Response figures of the customer: the current company's rows of ecrm.response.score."""

from odoo import api, fields, models
from odoo.osv import expression

from .ecrm_response_score import RESPONSE_PARTNER_FIELDS
from .ecrm_rfm_score import ecrm_empty_matches

ECRM_USER = "ecrm_addon.group_ecrm_user"


class ResPartner(models.Model):
    _inherit = "res.partner"

    ecrm_email_response_rate = fields.Float(
        string="Email Response Rate (%)",
        compute="_compute_ecrm_response",
        search="_search_ecrm_email_response_rate",
        digits=(16, 2),
        groups=ECRM_USER,
        help="Share of the last marketing emails (see Settings) opened, clicked or replied to (current company).",
    )
    ecrm_email_last_response_date = fields.Datetime(
        string="Last Email Response",
        compute="_compute_ecrm_response",
        search="_search_ecrm_email_last_response_date",
        groups=ECRM_USER,
    )
    ecrm_email_unresponsive = fields.Boolean(
        string="Unresponsive by Email",
        compute="_compute_ecrm_response",
        search="_search_ecrm_email_unresponsive",
        groups=ECRM_USER,
        help="None of the last marketing emails (see Settings) was opened, clicked or replied to.",
    )
    ecrm_sms_response_rate = fields.Float(
        string="SMS Response Rate (%)",
        compute="_compute_ecrm_response",
        search="_search_ecrm_sms_response_rate",
        digits=(16, 2),
        groups=ECRM_USER,
        help="Share of the last marketing SMS (see Settings) clicked (current company).",
    )
    ecrm_sms_last_response_date = fields.Datetime(
        string="Last SMS Response",
        compute="_compute_ecrm_response",
        search="_search_ecrm_sms_last_response_date",
        groups=ECRM_USER,
    )
    ecrm_sms_unresponsive = fields.Boolean(
        string="Unresponsive by SMS",
        compute="_compute_ecrm_response",
        search="_search_ecrm_sms_unresponsive",
        groups=ECRM_USER,
        help="None of the last marketing SMS (see Settings) was clicked.",
    )

    @api.depends_context("company")
    @api.depends("commercial_partner_id")
    def _compute_ecrm_response(self):
        commercial_ids = [pid for pid in set(self.commercial_partner_id._origin.ids) if pid]
        rows = {}
        if commercial_ids:
            scores = self.env["ecrm.response.score"].search_fetch(
                [("company_id", "=", self.env.company.id), ("partner_id", "in", commercial_ids)],
                ["partner_id", "channel", "response_rate", "last_response_date", "unresponsive"],
            )
            rows = {(score.partner_id.id, score.channel): score for score in scores}
        empty = self.env["ecrm.response.score"]
        for partner in self:
            commercial_id = partner.commercial_partner_id._origin.id
            for partner_field, (channel, score_field) in RESPONSE_PARTNER_FIELDS.items():
                partner[partner_field] = rows.get((commercial_id, channel), empty)[score_field]

    def _search_ecrm_response(self, partner_field, operator, value):
        """Partners whose commercial partner's row (current company, the
        field's channel) matches; partners without a row count as 0 / empty."""
        channel, score_field = RESPONSE_PARTNER_FIELDS[partner_field]
        scores = self.env["ecrm.response.score"]
        base = [("company_id", "=", self.env.company.id), ("channel", "=", channel)]
        matching = scores._search(expression.AND([base, [(score_field, operator, value)]]))
        domain = [("commercial_partner_id", "in", matching.subselect("partner_id"))]
        empty = 0 if score_field == "response_rate" else False
        if ecrm_empty_matches(operator, value, empty):
            scored = scores._search(base)
            domain = expression.OR([domain, [("commercial_partner_id", "not in", scored.subselect("partner_id"))]])
        return domain

    def _search_ecrm_email_response_rate(self, operator, value):
        return self._search_ecrm_response("ecrm_email_response_rate", operator, value)

    def _search_ecrm_email_last_response_date(self, operator, value):
        return self._search_ecrm_response("ecrm_email_last_response_date", operator, value)

    def _search_ecrm_email_unresponsive(self, operator, value):
        return self._search_ecrm_response("ecrm_email_unresponsive", operator, value)

    def _search_ecrm_sms_response_rate(self, operator, value):
        return self._search_ecrm_response("ecrm_sms_response_rate", operator, value)

    def _search_ecrm_sms_last_response_date(self, operator, value):
        return self._search_ecrm_response("ecrm_sms_last_response_date", operator, value)

    def _search_ecrm_sms_unresponsive(self, operator, value):
        return self._search_ecrm_response("ecrm_sms_unresponsive", operator, value)
