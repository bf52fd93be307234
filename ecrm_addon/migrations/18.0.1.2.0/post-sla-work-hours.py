# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""18.0.1.2.0: cases answered or closed before the working-hour figures
existed get them, in batches: the time to the first response and to the
closing in the working hours of their SLA policy (else their company),
time waiting on the customer left out. When the pauses happened was not
recorded: the time to the first response of those cases leaves none out
(the clock usually waits on the customer only after an answer)."""

from odoo import SUPERUSER_ID, api
from odoo.tools import SQL

BATCH_SIZE = 1000


def _fill(env, column, date_column, compute, batch_size):
    last_id = 0
    while True:
        rows = env.execute_query(
            SQL(
                """SELECT id FROM ecrm_case
                    WHERE id > %(last)s AND %(date)s IS NOT NULL AND %(column)s IS NULL
                    ORDER BY id LIMIT %(limit)s""",
                last=last_id,
                date=SQL.identifier(date_column),
                column=SQL.identifier(column),
                limit=batch_size,
            )
        )
        if not rows:
            return
        ids = [row[0] for row in rows]
        last_id = ids[-1]
        hours = compute(env["ecrm.case"].browse(ids))
        if hours:
            # plain SQL: a figure of the past, not an edit of the case (its write date stays)
            env.cr.execute(
                SQL(
                    """UPDATE ecrm_case c SET %(column)s = v.hours
                         FROM (SELECT unnest(%(ids)s::int[]) AS id, unnest(%(hours)s::float8[]) AS hours) v
                        WHERE c.id = v.id""",
                    column=SQL.identifier(column),
                    ids=[case.id for case in hours],
                    hours=list(hours.values()),
                )
            )
        env.invalidate_all()


def migrate(cr, version, batch_size=BATCH_SIZE):
    env = api.Environment(cr, SUPERUSER_ID, {})
    _fill(
        env,
        "ecrm_response_work_hours",
        "first_response_date",
        lambda cases: cases._ecrm_response_work_hours(with_pauses=False),
        batch_size,
    )
    _fill(
        env,
        "ecrm_resolution_work_hours",
        "date_closed",
        lambda cases: cases._ecrm_resolution_work_hours(),
        batch_size,
    )
