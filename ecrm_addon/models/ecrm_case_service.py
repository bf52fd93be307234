# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.tools import format_date

from .ecrm_case import INTERNAL
from .ecrm_case_intake import INTERACTION_CHANNEL

SLA_STATUSES = [
    ("none", "No SLA"),
    ("running", "Running"),
    ("paused", "Paused"),
    ("breached", "Breached"),
    ("met", "Met"),
]


class EcrmCase(models.Model):
    """Serving the customer on a case: canned answers (suggested per category,
    rendered with the case's placeholders), the SLA state the customer 360
    shows, and the closing of the case in the customer's timeline."""

    _inherit = "ecrm.case"

    suggested_answer_ids = fields.Many2many(
        "ecrm.case.answer",
        string="Suggested Answers",
        compute="_compute_suggested_answer_ids",
        groups="ecrm_addon.group_ecrm_user",
        help="The answers most used for the case's category.",
    )
    # placeholders of the canned answers (read with sudo: an agent answers about the
    # case's order and delivery without sales or stock rights)
    order_ref = fields.Char(
        string="Order Reference",
        compute="_compute_answer_placeholders",
        groups=INTERNAL,
        help="The reference of the case's order.",
    )
    tracking_ref = fields.Char(
        string="Tracking Reference",
        compute="_compute_answer_placeholders",
        groups=INTERNAL,
        help="The carrier's tracking reference of the case's delivery (or of its order's last one).",
    )
    delivery_date_text = fields.Char(
        string="Delivery Date",
        compute="_compute_answer_placeholders",
        groups=INTERNAL,
        help="When the case's delivery was done, or is planned, in the customer's language.",
    )
    sla_status = fields.Selection(
        SLA_STATUSES,
        string="SLA",
        compute="_compute_sla_status",
        groups=INTERNAL,
        help="Running: within its deadlines; Breached: a deadline passed; Paused: waiting on the customer; "
        "Met: closed within its deadlines.",
    )

    @api.depends("category_id")
    def _compute_suggested_answer_ids(self):
        suggestions = self.env["ecrm.case.answer"]._ecrm_suggest(self)
        for case in self:
            case.suggested_answer_ids = suggestions[case]

    @api.depends("picking_id", "sale_order_id", "partner_id.lang")
    def _compute_answer_placeholders(self):
        for case in self:
            # sudo: the agent answers about the case's order and delivery, not with sales or stock rights
            case.order_ref = case.sale_order_id.sudo().name or case.picking_id.sudo().sale_id.name
            picking = (
                case.picking_id.sudo()
                or case.sale_order_id.sudo()
                .picking_ids.filtered(lambda p: p.picking_type_code == "outgoing" and p.state != "cancel")
                .sorted("id")[-1:]
            )
            # carrier_tracking_ref comes with the carriers module (stock_delivery), when installed
            case.tracking_ref = picking["carrier_tracking_ref"] if "carrier_tracking_ref" in picking._fields else False
            date = picking.date_done or picking.scheduled_date or case.sale_order_id.sudo().commitment_date
            case.delivery_date_text = format_date(self.env, date, lang_code=case.partner_id.lang) if date else False

    @api.depends("response_deadline", "resolution_deadline", "first_response_date", "date_closed", "ecrm_paused_since")
    def _compute_sla_status(self):
        for case in self:
            if not case.response_deadline and not case.resolution_deadline:
                case.sla_status = "none"
            elif case.is_closed:
                case.sla_status = "breached" if case.response_late or case.resolution_late else "met"
            elif case.ecrm_paused_since:
                case.sla_status = "paused"  # the deadlines move on when the customer answers
            elif case.response_late or case.resolution_late:
                case.sla_status = "breached"
            else:
                case.sla_status = "running"

    @api.model
    def mail_allowed_qweb_expressions(self):
        # the placeholders of the canned answers render for every agent (no code evaluated)
        return (
            *super().mail_allowed_qweb_expressions(),
            "object.subject",
            "object.partner_id.lang",
            "object.order_ref",
            "object.tracking_ref",
            "object.delivery_date_text",
        )

    def write(self, vals):
        opened = self.filtered(lambda c: not c.is_closed) if "stage_id" in vals else self.browse()
        res = super().write(vals)
        closed = opened.filtered("is_closed")
        if closed:
            closed._ecrm_log_closed()
        return res

    def _ecrm_log_closed(self):
        """The closing of the cases on their customers' timeline. Weight 0: an
        event of the case, not a message that adds contact pressure."""
        Interaction = self.env["ecrm.interaction"]
        Interaction._log(
            [
                Interaction._log_values(
                    case,
                    case.partner_id.id,
                    self.env._("Case closed: %(case)s %(subject)s", case=case.name, subject=case.subject),
                    INTERACTION_CHANNEL.get(case.channel, case.channel),
                    "outbound",
                    "service",
                    weight=0.0,
                    company_id=case.company_id.id,
                )
                for case in self
            ]
        )

    def action_ecrm_insert_answer(self):
        """Pick a canned answer for this case (the suggestions first)."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Insert an Answer"),
            "res_model": "ecrm.case.answer.insert",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {"default_case_id": self.id},
        }
