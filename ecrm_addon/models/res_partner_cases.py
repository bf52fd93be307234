# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models

ECRM_USER = "ecrm_addon.group_ecrm_user"


class ResPartner(models.Model):
    """Customer 360: the cases of the customer (its commercial partner and
    every contact of it), counted and listed in one query each."""

    _inherit = "res.partner"

    ecrm_case_open_count = fields.Integer(string="Open Cases", compute="_compute_ecrm_cases", groups=ECRM_USER)
    ecrm_case_count = fields.Integer(string="Cases", compute="_compute_ecrm_cases", groups=ECRM_USER)
    ecrm_open_case_ids = fields.Many2many(
        "ecrm.case",
        string="Open Case List",
        compute="_compute_ecrm_cases",
        groups=ECRM_USER,
        help="The customer's cases not closed yet, every contact of it, most urgent first.",
    )

    def _compute_ecrm_cases(self):
        commercials = self.commercial_partner_id.filtered("id")
        counts = {}
        open_cases = {}
        if commercials:
            Case = self.env["ecrm.case"]
            for commercial, is_closed, count in Case._read_group(
                [("commercial_partner_id", "in", commercials.ids)],
                ["commercial_partner_id", "is_closed"],
                ["__count"],
            ):
                total, still_open = counts.get(commercial.id, (0, 0))
                counts[commercial.id] = (total + count, still_open + (0 if is_closed else count))
            for case in Case.search_fetch(
                [("commercial_partner_id", "in", commercials.ids), ("is_closed", "=", False)],
                ["commercial_partner_id"],
            ):
                open_cases.setdefault(case.commercial_partner_id.id, []).append(case.id)
        for partner in self:
            commercial = partner.commercial_partner_id.id
            partner.ecrm_case_count, partner.ecrm_case_open_count = counts.get(commercial, (0, 0))
            partner.ecrm_open_case_ids = [fields.Command.set(open_cases.get(commercial, []))]

    def action_ecrm_cases(self):
        """The customer's cases (every contact of it), the open ones first."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("ecrm_addon.ecrm_case_action")
        action["domain"] = [("commercial_partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {
            "default_partner_id": self.id,
            "search_default_open": 1,
        }
        return action

    def signup_prepare(self, signup_type="signup"):
        """Only write the partners whose token type changes: every notification
        of a customer's case asks for their signup link (portal's recipient
        groups), and rewriting the same customer row on each made concurrent
        case intakes for one customer fail to serialise."""
        # sudo: signup_type is readable by ERP managers only; only whether it changes leaves
        changed = self.filtered(lambda partner: partner.sudo().signup_type != signup_type)
        return super(ResPartner, changed).signup_prepare(signup_type=signup_type)
