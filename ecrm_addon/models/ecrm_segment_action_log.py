# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models

LOG_STATES = [
    ("done", "Done"),
    ("deferred", "Deferred"),
    ("blocked", "Excluded by pressure rule"),
    ("skipped", "Skipped"),
]


class EcrmSegmentActionLog(models.Model):
    """What a segment action did for one segment move: the claim that makes it
    run once per move. One row per (move of the RFM history, action), inserted
    by the RFM run with ``ON CONFLICT DO NOTHING``: a second run of the same
    date, or a run overlapping it, finds the row and does nothing."""

    _name = "ecrm.segment.action.log"
    _description = "Segment Action Done"
    _order = "date desc, id desc"
    _rec_name = "action_id"
    # Inserted in bulk by the engine only.
    _log_access = False

    # empty for a churn risk turning high (the customer value keeps no history)
    snapshot_id = fields.Many2one("ecrm.rfm.snapshot", string="Segment Move", ondelete="cascade", readonly=True)
    action_id = fields.Many2one("ecrm.segment.action", required=True, ondelete="cascade", readonly=True, index=True)
    company_id = fields.Many2one("res.company", required=True, ondelete="cascade", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", required=True, ondelete="cascade", readonly=True)
    date = fields.Date(string="Move of", required=True, readonly=True)
    state = fields.Selection(LOG_STATES, required=True, default="done", readonly=True)
    rule_id = fields.Many2one("ecrm.pressure.rule", string="Pressure Rule", ondelete="set null", readonly=True)
    until = fields.Datetime(string="Blocked Until", readonly=True)
    defer_limit = fields.Datetime(string="Defer Until", readonly=True)
    note = fields.Char(readonly=True)

    _sql_constraints = [
        ("snapshot_action_unique", "UNIQUE(snapshot_id, action_id)", "A segment action runs once per move."),
    ]

    def init(self):
        # the deferred emails each run retries
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS ecrm_segment_action_log_deferred_idx "
            "ON ecrm_segment_action_log (company_id, until) WHERE state = 'deferred'"
        )
        # a churn risk turning high: once per action, customer and date
        self.env.cr.execute(
            "CREATE UNIQUE INDEX IF NOT EXISTS ecrm_segment_action_log_churn_unique "
            "ON ecrm_segment_action_log (action_id, partner_id, date) WHERE snapshot_id IS NULL"
        )

    @api.depends("action_id", "state")
    def _compute_display_name(self):
        states = dict(self._fields["state"]._description_selection(self.env))
        for log in self:
            log.display_name = f"{log.action_id.name}: {states.get(log.state, '')}"
