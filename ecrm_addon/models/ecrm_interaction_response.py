# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models
from odoo.tools import SQL

# What a customer did with a mass mailing or SMS, as folded from its trace.
RESPONSES = [
    ("open", "Opened"),
    ("click", "Clicked"),
    ("reply", "Replied"),
    ("bounce", "Bounced"),
    ("unsubscribe", "Unsubscribed"),
]
# The responses that show the customer still reads: they make a send answered.
ANSWERED = ("open", "click", "reply")
# Name of the unique index that folds each response once per customer and mailing.
RESPONSE_INDEX = "ecrm_interaction_response_uniq"


class EcrmInteraction(models.Model):
    _inherit = "ecrm.interaction"

    ecrm_response = fields.Selection(
        RESPONSES,
        string="Mailing Response",
        readonly=True,
        help="For the inbound marketing touches folded from mass mailing and SMS traces: what the customer did "
        "(the document is the mailing).",
    )

    def init(self):
        res = super().init()
        # One response of each kind per customer and mailing: the fold inserts
        # with ON CONFLICT DO NOTHING against it (idempotent), and the response
        # figures look a send's answers up by (customer, mailing) on it.
        self.env.cr.execute(
            SQL(
                "CREATE UNIQUE INDEX IF NOT EXISTS %s ON %s (partner_id, res_id, ecrm_response) "
                "WHERE ecrm_response IS NOT NULL",
                SQL.identifier(RESPONSE_INDEX),
                SQL.identifier(self._table),
            )
        )
        return res
