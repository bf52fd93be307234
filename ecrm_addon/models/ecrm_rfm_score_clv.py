# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models
from odoo.tools import SQL

from .ecrm_clv_score import CLV_TOUCHED_TABLE


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
            clv = self.env["ecrm.clv.score"].sudo()
            # a full RFM run ("Recompute now") aggregates the inputs again too
            if full:
                clv._clv_refresh_company(company, full=True)
            else:
                clv._clv_refresh_company(company)
        return refreshed

    @api.model
    def _rfm_touched_copy_sql(self, company):
        """The customers the RFM run consumes from the log, kept for the
        customer value's inputs (see ``ecrm.clv.score._clv_update_inputs_sql``)."""
        return SQL(
            """%s
            clv_touched AS (
                INSERT INTO %s (company_id, partner_id) SELECT DISTINCT %s, partner_id FROM touched
            ),""",
            super()._rfm_touched_copy_sql(company),
            SQL.identifier(CLV_TOUCHED_TABLE),
            company.id,
        )
