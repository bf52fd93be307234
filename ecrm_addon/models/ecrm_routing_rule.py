# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models

from .ecrm_case import CASE_CHANNELS


class EcrmCaseRoutingRule(models.Model):
    """Which team a new case goes to: the first rule in sequence order whose
    category, channel and RFM segment hold for the case, in its company."""

    _name = "ecrm.case.routing.rule"
    _description = "Case Routing Rule"
    _order = "sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10, help="The first rule in this order that matches a new case routes it.")
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company, index=True)
    category_ids = fields.Many2many(
        "ecrm.case.category", string="Categories", help="Routes only cases of these categories. Empty: every category."
    )
    channel = fields.Selection(CASE_CHANNELS, help="Routes only cases from this channel. Empty: every channel.")
    segment_ids = fields.Many2many(
        "ecrm.rfm.segment",
        string="RFM Segments",
        help="Routes only cases of customers in these segments (in the case's company). Empty: every customer.",
    )
    team_id = fields.Many2one(
        "crm.team",
        required=True,
        check_company=True,
        ondelete="cascade",
        help="The team the case goes to; its assignment method picks the assignee.",
    )
    team_assignment = fields.Selection(related="team_id.ecrm_assignment", string="Assignment")

    def _ecrm_matches(self, company_id, category_id, channel, segment_id):
        self.ensure_one()
        return (
            self.company_id.id == company_id
            and (not self.category_ids or category_id in self.category_ids.ids)
            and (not self.channel or self.channel == channel)
            and (not self.segment_ids or segment_id in self.segment_ids.ids)
        )
