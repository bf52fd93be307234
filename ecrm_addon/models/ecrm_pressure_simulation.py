# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class EcrmPressureSimulation(models.TransientModel):
    """What the pressure rules would do if the mailing were sent now."""

    _name = "ecrm.pressure.simulation"
    _description = "Contact Pressure Check"

    mailing_id = fields.Many2one("mailing.mailing", required=True, ondelete="cascade")
    checked_count = fields.Integer(string="Recipients Checked", readonly=True)
    excluded_count = fields.Integer(string="Would Be Excluded", readonly=True)
    deferred_count = fields.Integer(string="Would Be Deferred", readonly=True)
    line_ids = fields.One2many("ecrm.pressure.simulation.line", "simulation_id", string="Per Rule", readonly=True)

    def _compute_lines(self):
        for simulation in self:
            checked, per_rule = simulation.mailing_id._ecrm_pressure_simulate()
            simulation.write(
                {
                    "checked_count": checked,
                    "excluded_count": sum(excluded for excluded, _deferred in per_rule.values()),
                    "deferred_count": sum(deferred for _excluded, deferred in per_rule.values()),
                    "line_ids": [fields.Command.clear()]
                    + [
                        fields.Command.create(
                            {"rule_id": rule_id, "excluded_count": excluded, "deferred_count": deferred}
                        )
                        for rule_id, (excluded, deferred) in per_rule.items()
                    ],
                }
            )


class EcrmPressureSimulationLine(models.TransientModel):
    _name = "ecrm.pressure.simulation.line"
    _description = "Contact Pressure Check per Rule"
    _order = "excluded_count desc, id"

    simulation_id = fields.Many2one("ecrm.pressure.simulation", required=True, ondelete="cascade")
    rule_id = fields.Many2one("ecrm.pressure.rule", string="Pressure Rule", readonly=True)
    excluded_count = fields.Integer(string="Would Be Excluded", readonly=True)
    deferred_count = fields.Integer(string="Would Be Deferred", readonly=True)
