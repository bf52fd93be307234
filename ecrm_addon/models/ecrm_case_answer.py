# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.tools import SQL

# How many answers the case form suggests
SUGGESTED_ANSWERS = 3


class EcrmCaseAnswer(models.Model):
    """A canned answer for cases, per category, written once per language.

    Its body is rendered on a case by Odoo's own template engine
    (``mail.render.mixin``, QWeb, the engine of mail templates) in the case
    customer's language, so ``<t t-out="object.partner_id.name"/>`` becomes the
    customer's name. Plain field paths render for every agent; anything else
    needs the *Mail Template Editor* group, as in mail templates.
    """

    _name = "ecrm.case.answer"
    _description = "Canned Answer"
    _inherit = ["mail.render.mixin"]
    _order = "use_count desc, sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    category_ids = fields.Many2many(
        "ecrm.case.category",
        string="Categories",
        help="The case categories the answer is suggested for; empty: every case.",
    )
    body = fields.Html(
        render_engine="qweb",
        translate=True,
        sanitize="email_outgoing",
        help="The answer, once per language. Placeholders: the customer "
        '<t t-out="object.partner_id.name"/>, the order <t t-out="object.order_ref"/>, '
        'the tracking reference <t t-out="object.tracking_ref"/>, '
        'the delivery date <t t-out="object.delivery_date_text"/>.',
    )
    use_count = fields.Integer(
        string="Uses", default=0, readonly=True, copy=False, help="How many times agents inserted the answer on a case."
    )
    company_id = fields.Many2one("res.company", index=True, help="Empty: every company.")
    # mail.render.mixin: the language of the rendering is the customer's
    lang = fields.Char(
        default="{{ object.partner_id.lang }}",
        help="The language the answer is sent in: the case customer's.",
    )

    def _compute_render_model(self):
        self.render_model = "ecrm.case"

    @api.model
    def _ecrm_suggest(self, cases):
        """{case: the SUGGESTED_ANSWERS answers most used for its category}, in
        one search: answers of the category first, then answers for every case."""
        answers = self.search(
            ["|", ("category_ids", "in", cases.category_id.ids), ("category_ids", "=", False)],
            order="use_count desc, sequence, id",
        )
        suggestions = {}
        for case in cases:
            own = answers.filtered(lambda a, case=case: case.category_id in a.category_ids)
            general = answers.filtered(lambda a: not a.category_ids)
            suggestions[case] = (own + general)[:SUGGESTED_ANSWERS] if case.category_id else general[:SUGGESTED_ANSWERS]
        return suggestions

    def _ecrm_render(self, case):
        """The body rendered on ``case``, in its customer's language."""
        self.ensure_one()
        case.ensure_one()
        return self._render_field("body", case.ids, compute_lang=True)[case.id]

    def _ecrm_count_use(self):
        """One more use of each answer: an UPDATE in place (agents may insert
        answers they may not edit; concurrent inserts add up)."""
        self.env.execute_query(
            SQL("UPDATE ecrm_case_answer SET use_count = COALESCE(use_count, 0) + 1 WHERE id = ANY(%s)", self.ids)
        )
        self.invalidate_recordset(["use_count"])

    def _ecrm_composer_action(self, case):
        """Odoo's chatter composer on ``case``, filled with this answer rendered
        for it: the agent reviews it, adds attachments and sends it from there."""
        self.ensure_one()
        case.check_access("write")
        body = self._ecrm_render(case)
        self._ecrm_count_use()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Answer %(case)s", case=case.name),
            "res_model": "mail.compose.message",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {
                "default_model": case._name,
                "default_res_ids": case.ids,
                "default_composition_mode": "comment",
                "default_subtype_xmlid": "mail.mt_comment",
                "default_body": body,
                "default_subject": case.subject,
                "mail_post_autofollow": True,
            },
        }

    def action_ecrm_insert(self):
        """Insert the answer on the case given in the context (``ecrm_case_id``)."""
        self.ensure_one()
        case = self.env["ecrm.case"].browse(self.env.context.get("ecrm_case_id")).exists()
        if not case:
            return False
        return self._ecrm_composer_action(case)
