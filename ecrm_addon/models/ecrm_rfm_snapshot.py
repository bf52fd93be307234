from odoo import api, fields, models
from odoo.osv import expression


class EcrmRfmSnapshot(models.Model):
    """The RFM figures of one customer at one run (one row per company, reference
    date and customer), with the segment the customer had before that run: the
    segment-migration report is a pivot of ``previous_segment_id`` x ``segment_id``.

    Written set-based by the engine only; a customer who left the window gets a
    row with no segment and zero scores for the run where they left.
    """

    _name = "ecrm.rfm.snapshot"
    _description = "RFM Snapshot"
    _order = "date desc, company_id, partner_id"
    _rec_name = "partner_id"

    date = fields.Date(string="Computed for", required=True, readonly=True, index=True)
    company_id = fields.Many2one("res.company", required=True, ondelete="cascade", readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    partner_id = fields.Many2one("res.partner", string="Customer", required=True, ondelete="cascade", readonly=True)
    recency_days = fields.Integer(string="Recency (days)", readonly=True, aggregator="avg")
    frequency = fields.Integer(readonly=True)
    monetary = fields.Monetary(string="Revenue", currency_field="currency_id", readonly=True)
    previous_monetary = fields.Monetary(string="Previous Revenue", currency_field="currency_id", readonly=True)
    r_score = fields.Integer(string="R", readonly=True, aggregator="avg")
    f_score = fields.Integer(string="F", readonly=True, aggregator="avg")
    m_score = fields.Integer(string="M", readonly=True, aggregator="avg")
    segment_id = fields.Many2one("ecrm.rfm.segment", readonly=True, ondelete="set null")
    previous_segment_id = fields.Many2one("ecrm.rfm.segment", readonly=True, ondelete="set null")
    is_latest = fields.Boolean(
        string="Latest Run",
        compute="_compute_is_latest",
        search="_search_is_latest",
        help="Rows of each company's latest run.",
    )

    _sql_constraints = [
        (
            "company_date_partner_unique",
            "UNIQUE(company_id, date, partner_id)",
            "A customer has one RFM snapshot per company and date.",
        ),
    ]

    @api.model
    def _latest_dates(self):
        return {
            company.id: date for company, date in self._read_group([], groupby=["company_id"], aggregates=["date:max"])
        }

    def _compute_is_latest(self):
        latest = self._latest_dates()
        for snapshot in self:
            snapshot.is_latest = snapshot.date == latest.get(snapshot.company_id.id)

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
