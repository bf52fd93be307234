# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""18.0.1.2.0: fresh installs ship two SLA policies per company; on an
upgrade, only companies with no policy at all (none of their own, none
shared) get them, so that a shop's own configuration keeps deciding."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    Policy = env["ecrm.escalation.policy"].with_context(active_test=False)
    if Policy.search_count([("company_id", "=", False)], limit=1):
        return
    configured = Policy.search([]).company_id
    (env["res.company"].search([]) - configured)._ecrm_create_sla_policies()
