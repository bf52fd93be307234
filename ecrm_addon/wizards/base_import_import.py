# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class BaseImport(models.TransientModel):
    _inherit = "base_import.import"

    def execute_import(self, fields, columns, options, dryrun=False):
        """The import dialog's *Test* shows which contact rows land on existing
        customers (``res.partner.load``). The import itself keeps that message
        out of its answer: the dialog treats any message as a reason to stop
        after the current batch, and the matched customers' chatter already
        records the match."""
        result = super().execute_import(fields, columns, options, dryrun=dryrun)
        if not dryrun and result.get("messages"):
            result["messages"] = [message for message in result["messages"] if not message.get("ecrm_match")]
        return result
