# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class EcrmCaseAnswerInsert(models.TransientModel):
    """Pick a canned answer for a case and see it rendered for the customer
    before it goes to the chatter composer."""

    _name = "ecrm.case.answer.insert"
    _description = "Insert a Canned Answer"

    case_id = fields.Many2one("ecrm.case", required=True, ondelete="cascade")
    category_id = fields.Many2one(related="case_id.category_id")
    suggested_answer_ids = fields.Many2many(related="case_id.suggested_answer_ids", string="Suggested Answers")
    answer_id = fields.Many2one(
        "ecrm.case.answer",
        required=True,
        domain="['|', ('category_ids', '=', False), ('category_ids', 'in', category_id)]",
        compute="_compute_answer_id",
        store=True,
        readonly=False,
    )
    lang = fields.Selection(related="case_id.partner_id.lang", string="Customer Language")
    preview = fields.Html(compute="_compute_preview", sanitize=False, help="The answer as the customer will read it.")

    @api.depends("case_id")
    def _compute_answer_id(self):
        for wizard in self:
            wizard.answer_id = wizard.answer_id or wizard.case_id.suggested_answer_ids[:1]

    @api.depends("answer_id", "case_id")
    def _compute_preview(self):
        for wizard in self:
            wizard.preview = wizard.answer_id._ecrm_render(wizard.case_id) if wizard.answer_id else False

    def action_insert(self):
        self.ensure_one()
        return self.answer_id._ecrm_composer_action(self.case_id)
