# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models

# System parameter: requests per minute and API user on the case API (0: no limit)
RATE_LIMIT_PARAM = "ecrm_addon.api_rate_limit"
RATE_LIMIT_DEFAULT = 120
RATE_WINDOW_SECONDS = 60


class EcrmApiRate(models.Model):
    """Requests of one API user to the case API in the current minute (a fixed
    window), shared by every worker process: one row per user, counted by one
    upsert per request."""

    _name = "ecrm.api.rate"
    _inherit = "ecrm.rate.counter"
    _description = "e-CRM API Requests per Minute"
    _log_access = False
    _ecrm_rate_key = "user_id"
    _ecrm_rate_param = RATE_LIMIT_PARAM
    _ecrm_rate_default = RATE_LIMIT_DEFAULT
    _ecrm_rate_window = RATE_WINDOW_SECONDS

    user_id = fields.Many2one("res.users", string="API User", required=True, readonly=True, ondelete="cascade")
    window_start = fields.Datetime(string="Minute Starting", required=True, readonly=True)
    hits = fields.Integer(string="Requests", readonly=True)

    _sql_constraints = [("user_unique", "UNIQUE(user_id)", "One request counter per API user.")]

    @api.model
    def _ecrm_throttle(self, user_id):
        """Count a request of ``user_id``; the seconds until its minute ends when
        it goes over the limit (the client's ``Retry-After``), else 0 (see
        ``ecrm.rate.counter._ecrm_count``)."""
        over, seconds_left = self._ecrm_count(user_id)
        return seconds_left if over else 0
