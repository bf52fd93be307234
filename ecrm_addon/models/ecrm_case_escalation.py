# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class EcrmCaseEscalation(models.Model):
    """One row per (case, level) fired: the unique key makes each level fire
    once, whatever the number of cron workers or re-runs."""

    _name = "ecrm.case.escalation"
    _description = "Case Escalation Log"
    _order = "fired_at desc, id desc"

    case_id = fields.Many2one("ecrm.case", required=True, ondelete="cascade", index=True)
    level_id = fields.Many2one("ecrm.escalation.level", required=True, ondelete="cascade", index=True)
    rank = fields.Integer(help="Position of the level in its chain (1 = first).")
    fired_at = fields.Datetime(required=True, default=fields.Datetime.now)
    state = fields.Selection([("done", "Done"), ("failed", "Failed")], required=True, default="done")
    attempts = fields.Integer(default=1)
    error = fields.Text()
    company_id = fields.Many2one(related="case_id.company_id", store=True)

    _sql_constraints = [
        ("case_level_uniq", "unique(case_id, level_id)", "An escalation level fires once per case."),
    ]
