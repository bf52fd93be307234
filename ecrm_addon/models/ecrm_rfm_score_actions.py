# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models


class EcrmRfmScore(models.Model):
    _inherit = "ecrm.rfm.score"

    @api.model
    def _rfm_refresh_company(self, company, full=False):
        """After the scores (and the customer value), the segment actions of
        the run's moves, in the same transaction and under the same advisory
        lock: the moves and what was done for them commit together."""
        first_run = not company.ecrm_rfm_scored_date
        Action = self.env["ecrm.segment.action"]
        high_before = Action._ecrm_high_risk_partner_ids(company)
        refreshed = super()._rfm_refresh_company(company, full=full)
        if refreshed:
            Action._ecrm_run_segment_actions(
                company, company.ecrm_rfm_scored_date, first_run=first_run, high_before=high_before
            )
        return refreshed
