# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models, tools
from odoo.exceptions import ValidationError

from .ecrm_interaction import CHANNELS, DEFAULT_WEIGHTS

# Where the weights lived before 18.0.1.2.0 (read once by the upgrade)
WEIGHT_PARAM = "ecrm_addon.weight.%s"


class EcrmPressureWeight(models.Model):
    """The weight of one touch on a channel, per company: the seed's impact,
    decayed with its age into the customer's weighted pressure. A channel
    without a row weighs the shipped default."""

    _name = "ecrm.pressure.weight"
    _description = "Channel Weight"
    _order = "company_id, channel"
    _rec_name = "channel"

    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company, index=True)
    channel = fields.Selection(CHANNELS, required=True)
    weight = fields.Float(
        required=True,
        default=1.0,
        digits=(16, 2),
        help="Impact of one touch on this channel: the weighted pressure adds it, halved every half-life.",
    )

    _sql_constraints = [
        ("company_channel_unique", "UNIQUE(company_id, channel)", "A channel has one weight per company."),
    ]

    @api.constrains("weight")
    def _check_weight(self):
        for row in self:
            if row.weight < 0:
                raise ValidationError(self.env._("A channel weight cannot be negative."))

    # every touch logged reads them (a new case twice): kept per worker until a weight changes

    @api.model_create_multi
    def create(self, vals_list):
        self.env.registry.clear_cache()
        return super().create(vals_list)

    def write(self, vals):
        self.env.registry.clear_cache()
        return super().write(vals)

    def unlink(self):
        self.env.registry.clear_cache()
        return super().unlink()

    @api.model
    def _ecrm_weights(self, company):
        """``{channel: weight}`` of ``company``: its rows, the shipped defaults elsewhere."""
        return dict(self._ecrm_company_weights(company.id))

    @tools.ormcache("company_id")
    def _ecrm_company_weights(self, company_id):
        weights = {channel: DEFAULT_WEIGHTS.get(channel, 1.0) for channel, _label in CHANNELS}
        # sudo: whoever causes a touch (a portal customer, a marketing user) logs it with the company's weights
        rows = self.sudo().search_fetch([("company_id", "=", company_id)], ["channel", "weight"])
        weights.update({row.channel: row.weight for row in rows})
        return weights

    @api.model
    def _ecrm_init_weights(self):
        """Give every company a row per channel that has none: the system
        parameter ``ecrm_addon.weight.<channel>`` where one is set (the source
        before 18.0.1.2.0), else the shipped default. Safe to run twice."""
        # sudo: run at install and upgrade, for every company
        Weight = self.sudo().with_context(active_test=False)
        params = self.env["ir.config_parameter"].sudo()
        existing = {(row.company_id.id, row.channel) for row in Weight.search([])}
        values = []
        for channel, _label in CHANNELS:
            default = DEFAULT_WEIGHTS.get(channel, 1.0)
            raw = params.get_param(WEIGHT_PARAM % channel)
            try:
                weight = float(raw) if raw not in (None, False, "") else default
            except ValueError:
                weight = default
            values += [
                {"company_id": company.id, "channel": channel, "weight": max(weight, 0.0)}
                for company in self.env["res.company"].sudo().search([])
                if (company.id, channel) not in existing
            ]
        return Weight.create(values)
