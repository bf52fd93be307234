# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from psycopg2.extensions import ISOLATION_LEVEL_READ_COMMITTED

from odoo import api, fields, models, sql_db
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

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
    _description = "e-CRM Website Case Form Submissions per Hour"
    _log_access = False

    key = fields.Char(string="Visitor Address", required=True, readonly=True)
    window_start = fields.Datetime(string="Hour Starting", required=True, readonly=True)
    hits = fields.Integer(string="Submissions", readonly=True)

    _sql_constraints = [("key_unique", "UNIQUE(key)", "One counter per visitor address.")]

    @api.model
    def _ecrm_limit(self):
        """Submissions per hour and address the system parameter allows (0: no limit)."""
        value = self.env["ir.config_parameter"].sudo().get_param(RATE_LIMIT_PARAM, RATE_LIMIT_DEFAULT)
        try:
            return max(int(value), 0)
        except (TypeError, ValueError):
            _logger.warning("System parameter %s is not a number: %r", RATE_LIMIT_PARAM, value)
            return RATE_LIMIT_DEFAULT

    @api.model
    def _ecrm_throttle(self, key):
        """Count a submission from ``key``; True when it goes over the limit.

        Written in a transaction of its own, committed at once (see
        ``ecrm.api.rate._ecrm_throttle``): a submission refused later still counts."""
        limit = self._ecrm_limit()
        if not limit:
            return False
        with self.env.registry.cursor() as cr:
            if isinstance(cr, sql_db.Cursor):  # a fresh connection (a test's shared cursor has begun already)
                cr.connection.set_isolation_level(ISOLATION_LEVEL_READ_COMMITTED)
            cr.execute(
                SQL(
                    """
                    INSERT INTO ecrm_web_form_rate AS rate (key, window_start, hits)
                    VALUES (%(key)s, to_timestamp(floor(extract(epoch FROM now()) / %(window)s) * %(window)s)
                                     AT TIME ZONE 'UTC', 1)
                    ON CONFLICT (key) DO UPDATE
                       SET hits = CASE WHEN rate.window_start >= EXCLUDED.window_start THEN rate.hits + 1 ELSE 1 END,
                           window_start = GREATEST(rate.window_start, EXCLUDED.window_start)
                    RETURNING hits
                    """,
                    key=key,
                    window=RATE_WINDOW_SECONDS,
                )
            )
            hits = cr.fetchone()[0]
        return hits > limit
