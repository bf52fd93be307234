# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class MailingTrace(models.Model):
    _inherit = "mailing.trace"

    failure_type = fields.Selection(
        selection_add=[
            ("ecrm_pressure", "Excluded by pressure rule"),
            ("ecrm_channel", "Sent on the preferred channel"),
        ],
        ondelete={"ecrm_pressure": "set null", "ecrm_channel": "set null"},
    )
    ecrm_pressure_rule_id = fields.Many2one(
        "ecrm.pressure.rule",
        string="Pressure Rule",
        index="btree_not_null",
        ondelete="set null",
        readonly=True,
        help="The contact-pressure rule that excluded this recipient.",
    )
