# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class MailMail(models.Model):
    _inherit = "mail.mail"

    failure_type = fields.Selection(
        selection_add=[("ecrm_pressure", "Excluded by pressure rule")],
        ondelete={"ecrm_pressure": "set null"},
    )
