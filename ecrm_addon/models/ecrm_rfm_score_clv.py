# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models


class EcrmRfmScore(models.Model):
    _inherit = "ecrm.rfm.score"

    @api.model
    def _rfm_refresh_company(self, company, full=False):
        """After the RFM scores, the customer value of the same company, on the
        same documents and reference date, under the same advisory lock."""
        refreshed = super()._rfm_refresh_company(company, full=full)
        if refreshed:
            # sudo: the engine writes the company's figures and fit, as the RFM
            # refresh writes its scores; callers are the cron and managers
            self.env["ecrm.clv.score"].sudo()._clv_refresh_company(company)
        return refreshed
