# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""18.0.1.2.0: the shipped Waiting on customer and Solved stages get their
customer emails (and Solved its rating request), as a new database does. The
stages are noupdate data: without this, an upgraded shop would send none."""

from odoo import SUPERUSER_ID, api

STAGE_TEMPLATES = {
    "ecrm_addon.ecrm_case_stage_waiting": {"template_id": "ecrm_addon.ecrm_case_mail_template_waiting"},
    "ecrm_addon.ecrm_case_stage_solved": {
        "template_id": "ecrm_addon.ecrm_case_mail_template_solved",
        "rating_template_id": "ecrm_addon.ecrm_case_mail_template_rating",
    },
}


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    for stage_xmlid, templates in STAGE_TEMPLATES.items():
        stage = env.ref(stage_xmlid, raise_if_not_found=False)
        if not stage:
            continue
        vals = {}
        for field, template_xmlid in templates.items():
            template = env.ref(template_xmlid, raise_if_not_found=False)
            if template and not stage[field]:
                vals[field] = template.id
        if vals:
            stage.write(vals)
