# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models

# System parameter: cases the website form accepts per hour and visitor address (0: no limit)
RATE_LIMIT_PARAM = "ecrm_website_sale.case_form_rate_limit"
RATE_LIMIT_DEFAULT = 5
RATE_WINDOW_SECONDS = 3600


class EcrmWebFormRate(models.Model):
    """Cases opened from the website form by one visitor address in the
    current hour (a fixed window), shared by every worker: one row per
    address, counted by one upsert per submission (as ``ecrm.api.rate``
    counts the API's requests)."""

    _name = "ecrm.web.form.rate"
    _inherit = "ecrm.rate.counter"
    _description = "e-CRM Website Case Form Submissions per Hour"
    _log_access = False
    _ecrm_rate_key = "key"
    _ecrm_rate_param = RATE_LIMIT_PARAM
    _ecrm_rate_default = RATE_LIMIT_DEFAULT
    _ecrm_rate_window = RATE_WINDOW_SECONDS

    key = fields.Char(string="Visitor Address", required=True, readonly=True)
    window_start = fields.Datetime(string="Hour Starting", required=True, readonly=True)
    hits = fields.Integer(string="Submissions", readonly=True)

    _sql_constraints = [("key_unique", "UNIQUE(key)", "One counter per visitor address.")]

    @api.model
    def _ecrm_throttle(self, key):
        """Count a submission from ``key``; True when it goes over the limit.

        Written in a transaction of its own, committed at once (see
        ``ecrm.rate.counter._ecrm_count``): a submission refused later still counts."""
        return self._ecrm_count(key)[0]
