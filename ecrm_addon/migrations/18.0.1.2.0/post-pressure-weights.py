# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""18.0.1.2.0: the channel weights move from the system parameters
``ecrm_addon.weight.<channel>`` to the table of channel weights (one row
per company and channel, editable in the e-CRM configuration). Each company
gets the value the parameter held (the shipped default where none was set);
the parameters are then removed, so that nobody edits a value nothing reads."""

from odoo import SUPERUSER_ID, api
from odoo.addons.ecrm_addon.models.ecrm_interaction import CHANNELS
from odoo.addons.ecrm_addon.models.ecrm_pressure_weight import WEIGHT_PARAM


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["ecrm.pressure.weight"]._ecrm_init_weights()
    env["ir.config_parameter"].search(
        [("key", "in", [WEIGHT_PARAM % channel for channel, _label in CHANNELS])]
    ).unlink()
