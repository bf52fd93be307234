# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

import numpy as np

from odoo import api, fields, models
from odoo.tools import SQL


class EcrmClvScore(models.Model):
    _inherit = "ecrm.clv.score"

    @api.model
    def _clv_margin_ratios(self, company, start, reference, partner_ids):
        """Gross margin / untaxed amount of each customer's confirmed orders of
        the calibration period (``sale_margin``'s order margin), along
        ``partner_ids``; the company's ratio over all those orders for
        customers without orders, 1 when the company has none."""
        self.env["sale.order"].flush_model(["margin", "amount_untaxed", "state", "date_order", "partner_id"])
        self.env.cr.execute(
            SQL(
                """
                SELECT p.commercial_partner_id, SUM(so.margin), SUM(so.amount_untaxed)
                  FROM sale_order so
                  JOIN res_partner p ON p.id = so.partner_id
                 WHERE so.company_id = %s AND so.state = 'sale'
                   AND so.date_order >= %s AND so.date_order < %s
                 GROUP BY p.commercial_partner_id
                """,
                company.id,
                fields.Datetime.to_datetime(start),
                fields.Datetime.to_datetime(reference + timedelta(days=1)),
            )
        )
        rows = self.env.cr.fetchall()
        total_margin = sum(float(margin or 0) for __, margin, __ in rows)
        total_amount = sum(float(amount or 0) for __, __, amount in rows)
        default = total_margin / total_amount if total_amount > 0 else 1.0
        ratios = {pid: float(margin or 0) / float(amount) for pid, margin, amount in rows if amount and amount > 0}
        return np.array([ratios.get(pid, default) for pid in partner_ids], dtype=float)
