# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""18.0.1.2.0: the Cases Analysis and Contact Pressure reports are queries
evaluated with the ORM's clock (``_table_query``): their old SQL views go.
Escalation levels made before webhooks were signed get a secret each."""

import secrets

from odoo.tools import SQL


def migrate(cr, version):
    cr.execute(SQL("DROP VIEW IF EXISTS ecrm_case_report, ecrm_pressure_report"))
    cr.execute(SQL("SELECT id FROM ecrm_escalation_level WHERE webhook_secret IS NULL"))
    for (level_id,) in cr.fetchall():
        cr.execute(
            SQL(
                "UPDATE ecrm_escalation_level SET webhook_secret = %s WHERE id = %s",
                secrets.token_hex(32),
                level_id,
            )
        )
