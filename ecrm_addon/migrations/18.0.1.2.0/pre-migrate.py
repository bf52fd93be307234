# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""18.0.1.2.0: one-off fixes that ran at every update in ``init()`` before.

Deferrals made before they had a company get the mailing's (its responsible's,
else the first company), before the ORM makes the column required; the
pressure index replaced by a covering one goes."""

from odoo.tools import SQL
from odoo.tools.sql import column_exists, create_column


def migrate(cr, version):
    cr.execute(SQL("DROP INDEX IF EXISTS ecrm_interaction_pressure_idx"))
    if not column_exists(cr, "ecrm_pressure_deferral", "company_id"):
        create_column(cr, "ecrm_pressure_deferral", "company_id", "int4")
    cr.execute(
        SQL(
            """
            UPDATE ecrm_pressure_deferral d
               SET company_id = COALESCE(u.company_id, (SELECT min(id) FROM res_company))
              FROM mailing_mailing m
              LEFT JOIN res_users u ON u.id = m.user_id
             WHERE d.company_id IS NULL AND m.id = d.mailing_id
            """
        )
    )
