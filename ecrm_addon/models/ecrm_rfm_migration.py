# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models, tools
from odoo.osv import expression


class EcrmRfmMigration(models.Model):
    """The segment-migration matrix of one RFM run: how many customers went
    from each segment (before the run) to each segment (after it), with their
    revenue. At most (segments + 1)² rows per company and run, written by the
    engine only; the pivot of this table is the segment-migration report."""

    _name = "ecrm.rfm.migration"
    _description = "RFM Segment Migration"
    _order = "date desc, company_id, previous_segment_id, segment_id"
    _log_access = False

    date = fields.Date(string="Computed for", required=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, ondelete="cascade", readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    previous_segment_id = fields.Many2one("ecrm.rfm.segment", readonly=True, ondelete="set null")
    segment_id = fields.Many2one("ecrm.rfm.segment", readonly=True, ondelete="set null")
    customer_count = fields.Integer(string="Customers", readonly=True)
    monetary = fields.Monetary(string="Revenue", currency_field="currency_id", readonly=True)
    previous_monetary = fields.Monetary(string="Previous Revenue", currency_field="currency_id", readonly=True)
    is_latest = fields.Boolean(
        string="Latest Run",
        compute="_compute_is_latest",
        search="_search_is_latest",
        help="Rows of each company's latest run.",
    )

    def init(self):
        tools.create_index(self.env.cr, "ecrm_rfm_migration_company_date_idx", self._table, ["company_id", "date"])

    @api.model
    def _latest_dates(self):
        return {
            company.id: date for company, date in self._read_group([], groupby=["company_id"], aggregates=["date:max"])
        }

    def _compute_is_latest(self):
        latest = self._latest_dates()
        for row in self:
            row.is_latest = row.date == latest.get(row.company_id.id)

    def _search_is_latest(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise NotImplementedError(self.env._("Unsupported search on the latest run."))
        latest = [
            [("company_id", "=", company_id), ("date", "=", date)] for company_id, date in self._latest_dates().items()
        ]
        domain = expression.OR(latest) if latest else expression.FALSE_DOMAIN
        if (operator == "=") != value:
            domain = ["!", *domain]
        return domain
