# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models, tools

CHANNELS = [
    ("email", "Email"),
    ("sms", "SMS"),
    ("phone", "Phone"),
    ("meeting", "Meeting"),
    ("letter", "Letter"),
    ("portal", "Portal"),
    ("web", "Web"),
    ("chat", "Chat"),
    ("social", "Social"),
    ("other", "Other"),
]
CATEGORIES = [
    ("marketing", "Marketing"),
    ("transactional", "Transactional"),
    ("service", "Service"),
    ("sales", "Sales"),
]
# The seeds' channel weights: a meeting weighs more than a call, a call more than an email.
DEFAULT_WEIGHTS = {"meeting": 5.0, "phone": 3.0, "chat": 2.0, "portal": 1.5, "email": 1.0, "sms": 1.0}


class EcrmInteraction(models.Model):
    """One touch between the shop and a customer, in or out, on any channel.

    The largest table of the addon: rows are only ever inserted by the features
    that cause the touch, read per customer and date, and never updated in bulk.
    """

    _name = "ecrm.interaction"
    _description = "Customer Interaction"
    _order = "date desc, id desc"
    _rec_name = "name"

    name = fields.Char(string="Summary", required=True)
    partner_id = fields.Many2one("res.partner", string="Customer", required=True, ondelete="cascade", index=True)
    commercial_partner_id = fields.Many2one(
        "res.partner",
        string="Commercial Entity",
        related="partner_id.commercial_partner_id",
        store=True,
        precompute=True,
        index=False,
    )
    date = fields.Datetime(required=True, default=fields.Datetime.now)
    channel = fields.Selection(CHANNELS, required=True, default="email")
    direction = fields.Selection([("inbound", "Inbound"), ("outbound", "Outbound")], required=True, default="outbound")
    category = fields.Selection(CATEGORIES, required=True, default="service")
    weight = fields.Float(
        default=lambda self: self._default_weight(),
        help="Impact of the touch on the customer; pressure decays it with its age.",
    )
    res_model = fields.Char(string="Document Model", index=False)
    res_id = fields.Many2oneReference(string="Document", model_field="res_model")
    user_id = fields.Many2one("res.users", string="By", default=lambda self: self.env.user)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company, index=False)

    def init(self):
        # Per-customer timelines and the weighted pressure read (partner, date).
        tools.create_index(
            self.env.cr,
            "ecrm_interaction_partner_date_idx",
            self._table,
            ["commercial_partner_id", "date DESC"],
        )
        # The pressure check reads a customer's outbound touches of one
        # category in one company by date, and their channel: all of it in
        # this index (index-only scans, one range per customer).
        tools.create_index(
            self.env.cr,
            "ecrm_interaction_pressure_cover_idx",
            self._table,
            ["company_id", "commercial_partner_id", "category", "date", "channel"],
            where="direction = 'outbound'",
        )
        tools.create_index(
            self.env.cr,
            "ecrm_interaction_document_idx",
            self._table,
            ["res_model", "res_id"],
        )

    @api.model
    def _default_weight(self):
        channel = self.env.context.get("default_channel", "email")
        return self._channel_weights().get(channel, 1.0)

    @api.model
    def _channel_weights(self, company=None):
        """Weights per channel of ``company`` (the current one by default): the
        table of channel weights (e-CRM configuration), the shipped defaults
        for the channels it leaves out."""
        return self.env["ecrm.pressure.weight"]._ecrm_weights(company or self.env.company)

    @api.model
    def _log_values(self, record, partner_id, name, channel, direction, category, **values):
        """The values of one touch with ``partner_id`` caused by ``record`` (its
        source document), for ``_log``; ``values`` adds the date, the company..."""
        return {
            "partner_id": partner_id,
            "name": name,
            "channel": channel,
            "direction": direction,
            "category": category,
            "res_model": record._name,
            "res_id": record.id,
            **values,
        }

    @api.model
    def _log(self, vals_list):
        """Record touches in bulk (the one entry point of the features that cause them).

        Each dict needs ``partner_id`` and ``name``; ``weight`` defaults to the
        channel's weight. Touches on partners without a customer are skipped.
        """
        weights = {}  # {company_id: {channel: weight}}, read once per company of the batch
        rows = []
        for vals in vals_list:
            if not vals.get("partner_id"):
                continue
            if "weight" not in vals:
                company_id = vals.get("company_id") or self.env.company.id
                if company_id not in weights:
                    weights[company_id] = self._channel_weights(self.env["res.company"].browse(company_id))
                rows.append({"weight": weights[company_id].get(vals.get("channel", "email"), 1.0), **vals})
            else:
                rows.append(vals)
        # sudo: the log is written on behalf of whoever caused the touch; reading
        # it stays under the access rules.
        return self.sudo().create(rows)

    def action_open_document(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": self.res_model,
            "res_id": self.res_id,
            "view_mode": "form",
        }
