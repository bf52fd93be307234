# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from psycopg2.extensions import ISOLATION_LEVEL_READ_COMMITTED

from odoo import api, fields, models, sql_db
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

# System parameter: requests per minute and API user on the case API (0: no limit)
RATE_LIMIT_PARAM = "ecrm_addon.api_rate_limit"
RATE_LIMIT_DEFAULT = 120
RATE_WINDOW_SECONDS = 60


class EcrmApiRate(models.Model):
    """Requests of one API user to the case API in the current minute (a fixed
    window), shared by every worker process: one row per user, counted by one
    upsert per request."""

    _name = "ecrm.api.rate"
    _description = "e-CRM API Requests per Minute"
    _log_access = False

    user_id = fields.Many2one("res.users", string="API User", required=True, readonly=True, ondelete="cascade")
    window_start = fields.Datetime(string="Minute Starting", required=True, readonly=True)
    hits = fields.Integer(string="Requests", readonly=True)

    _sql_constraints = [("user_unique", "UNIQUE(user_id)", "One request counter per API user.")]

    @api.model
    def _ecrm_limit(self):
        """Requests per minute and API user the system parameter allows (0: no limit)."""
        value = self.env["ir.config_parameter"].sudo().get_param(RATE_LIMIT_PARAM, RATE_LIMIT_DEFAULT)
        try:
            return max(int(value), 0)
        except (TypeError, ValueError):
            _logger.warning("System parameter %s is not a number: %r", RATE_LIMIT_PARAM, value)
            return RATE_LIMIT_DEFAULT

    @api.model
    def _ecrm_throttle(self, user_id):
        """Count a request of ``user_id``; the seconds until its minute ends when
        it goes over the limit (the client's ``Retry-After``), else 0.

        The counter is written in a transaction of its own, in READ COMMITTED
        and committed at once: concurrent requests of one user (other workers)
        wait on its row for this one statement, and none fails on another's
        update, as they would in the request's REPEATABLE READ transaction that
        holds the row until the request ends. A request refused later (bad
        input, rights) still counts."""
        limit = self._ecrm_limit()
        if not limit:
            return 0
        with self.env.registry.cursor() as cr:
            if isinstance(cr, sql_db.Cursor):  # a fresh connection (a test's shared cursor has begun already)
                cr.connection.set_isolation_level(ISOLATION_LEVEL_READ_COMMITTED)
            cr.execute(
                SQL(
                    """
                    INSERT INTO ecrm_api_rate AS rate (user_id, window_start, hits)
                    VALUES (%(user)s, to_timestamp(floor(extract(epoch FROM now()) / %(window)s) * %(window)s)
                                      AT TIME ZONE 'UTC', 1)
                    ON CONFLICT (user_id) DO UPDATE
                       SET hits = CASE WHEN rate.window_start >= EXCLUDED.window_start THEN rate.hits + 1 ELSE 1 END,
                           window_start = GREATEST(rate.window_start, EXCLUDED.window_start)
                    RETURNING hits,
                              ceil(extract(epoch FROM window_start + make_interval(secs => %(window)s)
                                                      - (now() AT TIME ZONE 'UTC')))
                    """,
                    user=user_id,
                    window=RATE_WINDOW_SECONDS,
                )
            )
            hits, seconds_left = cr.fetchone()
        return max(int(seconds_left), 1) if hits > limit else 0
