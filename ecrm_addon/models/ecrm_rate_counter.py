# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from psycopg2.extensions import ISOLATION_LEVEL_READ_COMMITTED

from odoo import api, models, sql_db
from odoo.tools import SQL

_logger = logging.getLogger(__name__)


class EcrmRateCounter(models.AbstractModel):
    """Hits of one key (an API user, a visitor address) in the current fixed
    window, shared by every worker process: one row per key (unique column
    ``_ecrm_rate_key``, with ``window_start`` and ``hits``), counted by one
    upsert per hit. The limit per window is a system parameter."""

    _name = "ecrm.rate.counter"
    _description = "e-CRM Rate Counter"

    _ecrm_rate_key = None  # the unique column of the key
    _ecrm_rate_param = None  # system parameter: hits allowed per window and key (0: no limit)
    _ecrm_rate_default = 0
    _ecrm_rate_window = 60  # seconds

    @api.model
    def _ecrm_limit(self):
        """Hits per window and key the system parameter allows (0: no limit)."""
        value = self.env["ir.config_parameter"].sudo().get_param(self._ecrm_rate_param, self._ecrm_rate_default)
        try:
            return max(int(value), 0)
        except (TypeError, ValueError):
            _logger.warning("System parameter %s is not a number: %r", self._ecrm_rate_param, value)
            return self._ecrm_rate_default

    @api.model
    def _ecrm_count(self, key):
        """Count a hit of ``key``: ``(over the limit, seconds until its window
        ends)``; ``(False, 0)`` without a limit.

        The counter is written in a transaction of its own, in READ COMMITTED
        and committed at once: concurrent hits of one key (other workers) wait
        on its row for this one statement, and none fails on another's update,
        as they would in the request's REPEATABLE READ transaction that holds
        the row until the request ends. A hit refused later (bad input,
        rights) still counts."""
        limit = self._ecrm_limit()
        if not limit:
            return False, 0
        with self.env.registry.cursor() as cr:
            if isinstance(cr, sql_db.Cursor):  # a fresh connection (a test's shared cursor has begun already)
                cr.connection.set_isolation_level(ISOLATION_LEVEL_READ_COMMITTED)
            cr.execute(
                SQL(
                    """
                    INSERT INTO %(table)s AS rate (%(key_column)s, window_start, hits)
                    VALUES (%(key)s, to_timestamp(floor(extract(epoch FROM now()) / %(window)s) * %(window)s)
                                     AT TIME ZONE 'UTC', 1)
                    ON CONFLICT (%(key_column)s) DO UPDATE
                       SET hits = CASE WHEN rate.window_start >= EXCLUDED.window_start THEN rate.hits + 1 ELSE 1 END,
                           window_start = GREATEST(rate.window_start, EXCLUDED.window_start)
                    RETURNING hits,
                              ceil(extract(epoch FROM window_start + make_interval(secs => %(window)s)
                                                      - (now() AT TIME ZONE 'UTC')))
                    """,
                    table=SQL.identifier(self._table),
                    key_column=SQL.identifier(self._ecrm_rate_key),
                    key=key,
                    window=self._ecrm_rate_window,
                )
            )
            hits, seconds_left = cr.fetchone()
        return hits > limit, max(int(seconds_left), 1)
