# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models
from odoo.tools.sql import drop_index, make_index_name


class EcrmRfmSnapshot(models.Model):
    """RFM history: one row per company, run date and customer whose figures
    changed in that run (first score and leaving the window included), with
    the figures after the run and the segment and revenue before it.

    Customers whose figures did not move write nothing, so the history stays
    small however often the engine runs, yet it is a full snapshot of every
    run: a customer's state after any run is its latest row at or before that
    date (``ecrm.rfm.score._rfm_history_sql``). The counts of every cell of a
    run, stayers included, are in ecrm.rfm.migration.
    """

    _name = "ecrm.rfm.snapshot"
    _description = "RFM Snapshot"
    _order = "date desc, company_id, partner_id"
    _rec_name = "partner_id"
    # Inserted in bulk by the engine only: no create/write user and date columns.
    _log_access = False

    # The unique (company_id, date, partner_id) index serves the reports by run;
    # partner_id has its own index for the partner's history, deletion and merge.
    date = fields.Date(string="Computed for", required=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, ondelete="cascade", readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, ondelete="cascade", readonly=True, index=True
    )
    recency_days = fields.Integer(string="Recency (days)", readonly=True, aggregator="avg")
    frequency = fields.Integer(readonly=True)
    monetary = fields.Monetary(string="Revenue", currency_field="currency_id", readonly=True)
    previous_monetary = fields.Monetary(string="Previous Revenue", currency_field="currency_id", readonly=True)
    r_score = fields.Integer(string="R", readonly=True, aggregator="avg")
    f_score = fields.Integer(string="F", readonly=True, aggregator="avg")
    m_score = fields.Integer(string="M", readonly=True, aggregator="avg")
    segment_id = fields.Many2one("ecrm.rfm.segment", readonly=True, ondelete="set null")
    previous_segment_id = fields.Many2one("ecrm.rfm.segment", readonly=True, ondelete="set null")
    action_log_ids = fields.One2many(
        "ecrm.segment.action.log",
        "snapshot_id",
        string="Actions Done",
        help="What the segment actions did for this move.",
    )

    _sql_constraints = [
        (
            "company_date_partner_unique",
            "UNIQUE(company_id, date, partner_id)",
            "A customer has one RFM snapshot per company and date.",
        ),
    ]

    def init(self):
        drop_index(self.env.cr, make_index_name(self._table, "date"), self._table)
