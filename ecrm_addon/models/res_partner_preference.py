# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The customer's own contact preferences (preference centre): marketing channels
turned off, a weekly maximum per channel, the preferred channel."""

from odoo import api, fields, models
from odoo.exceptions import ValidationError

# The weekly maximum and the "off" switch of each channel, as the engine reads them
# (email has no switch here: turning email off is the email blacklist, see consent)
PREFERENCE_FIELDS = {
    "email": ("ecrm_max_week_email",),
    "sms": ("ecrm_max_week_sms", "ecrm_no_sms"),
    "phone": ("ecrm_max_week_phone", "ecrm_no_phone"),
}


class ResPartner(models.Model):
    _inherit = "res.partner"

    ecrm_max_week_email = fields.Integer(
        string="Max. Marketing Emails per Week",
        copy=False,
        help="Set by the customer: at most this many marketing emails in any 7 days, on top of the shop's "
        "pressure rules (never looser than them); 0: only the shop's rules.",
    )
    ecrm_max_week_sms = fields.Integer(
        string="Max. Marketing SMS per Week",
        copy=False,
        help="Set by the customer: at most this many marketing SMS in any 7 days; 0: only the shop's rules.",
    )
    ecrm_max_week_phone = fields.Integer(
        string="Max. Marketing Calls per Week",
        copy=False,
        help="Set by the customer: at most this many marketing calls in any 7 days; 0: only the shop's rules.",
    )
    ecrm_no_sms = fields.Boolean(
        string="No Marketing SMS",
        copy=False,
        help="Set by the customer: no marketing SMS at all (order and delivery messages are still sent).",
    )
    ecrm_no_phone = fields.Boolean(
        string="No Marketing Calls",
        copy=False,
        help="Set by the customer: no marketing calls at all.",
    )

    @api.constrains("ecrm_max_week_email", "ecrm_max_week_sms", "ecrm_max_week_phone")
    def _check_ecrm_max_week(self):
        for partner in self:
            if min(partner.ecrm_max_week_email, partner.ecrm_max_week_sms, partner.ecrm_max_week_phone) < 0:
                raise ValidationError(self.env._("A weekly maximum of messages cannot be negative."))

    @api.model
    def _ecrm_preference_fields(self, channel):
        """The fields of the customer's own limit on ``channel``: (weekly maximum[, off switch])."""
        return list(PREFERENCE_FIELDS[channel])
