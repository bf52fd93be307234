# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""18.0.1.1.0: the first case stage is "Received" (it was "New", the same term
as the RFM segment, so both got one Spanish word). The stage is data loaded
once (noupdate): renamed here, in English and every Spanish translation the
database holds (active language or not), only where nobody renamed it since."""

from odoo.tools import SQL


def migrate(cr, version):
    cr.execute(
        SQL(
            """
            UPDATE ecrm_case_stage stage
               SET name = (SELECT jsonb_object_agg(key, CASE WHEN key = 'en_US' THEN to_jsonb('Received'::text)
                                                             WHEN key LIKE 'es%%' THEN to_jsonb('Recibido'::text)
                                                             ELSE value END)
                             FROM jsonb_each(stage.name))
              FROM ir_model_data data
             WHERE data.module = 'ecrm_addon' AND data.name = 'ecrm_case_stage_new'
               AND data.model = 'ecrm.case.stage' AND stage.id = data.res_id
               AND stage.name->>'en_US' = 'New'
            """
        )
    )
