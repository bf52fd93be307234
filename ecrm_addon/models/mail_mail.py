from odoo import fields, models


class MailMail(models.Model):
    _inherit = "mail.mail"

    failure_type = fields.Selection(
        selection_add=[("ecrm_pressure", "Excluded by pressure rule")],
        ondelete={"ecrm_pressure": "set null"},
    )
