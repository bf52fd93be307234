# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class EcrmCaseStage(models.Model):
    _name = "ecrm.case.stage"
    _description = "Case Stage"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    fold = fields.Boolean(string="Folded in Kanban", help="Closed stages are usually folded.")
    is_closed = fields.Boolean(
        string="Closing Stage",
        help="Cases in this stage are solved or cancelled: their clocks stop and nothing escalates.",
    )
    is_waiting_customer = fields.Boolean(
        string="Waiting on Customer",
        help="The clock is paused while a case waits here; the time is added back to its deadlines.",
    )
    description = fields.Text(translate=True)
    template_id = fields.Many2one(
        "mail.template",
        string="Email to Customer",
        domain=[("model", "=", "ecrm.case")],
        help="Sent to the customer when a case reaches this stage (automatic email, in the customer's language).",
    )
    rating_template_id = fields.Many2one(
        "mail.template",
        string="Rating Request",
        domain=[("model", "=", "ecrm.case")],
        help="Asks the customer to rate the service when a case reaches this stage, once per case.",
    )
