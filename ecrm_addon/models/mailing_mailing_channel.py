# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The customer's preferred channel in mass mailings: when a campaign has a mailing
on both channels (email and SMS), each customer who prefers one of them, and can
be reached there, gets that one only."""

from odoo import api, fields, models
from odoo.tools import SQL


class MailingMailing(models.Model):
    _inherit = "mailing.mailing"

    ecrm_twin_mailing_id = fields.Many2one(
        "mailing.mailing",
        string="Same Campaign, Other Channel",
        compute="_compute_ecrm_twin_mailing_id",
        compute_sudo=True,
        help="The mailing of the same campaign on the other channel (email or SMS): the customers who prefer "
        "that channel, and have an address there, get it instead of this one.",
    )

    @api.depends("campaign_id", "mailing_type")
    def _compute_ecrm_twin_mailing_id(self):
        for mailing in self:
            mailing.ecrm_twin_mailing_id = mailing._ecrm_twin_mailing()

    def _ecrm_twin_mailing(self):
        """The first mailing of the same campaign on the other channel, if any."""
        self.ensure_one()
        if not self.campaign_id or self.mailing_type not in ("mail", "sms"):
            return self.browse()
        # sudo: whoever sends honours the campaign's other mailing, readable or not
        return (
            self.sudo()
            .search(
                [
                    ("campaign_id", "=", self.campaign_id.id),
                    ("mailing_type", "=", "sms" if self.mailing_type == "mail" else "mail"),
                    ("id", "!=", self._origin.id or 0),
                ],
                order="id",
                limit=1,
            )
            .with_env(self.env)
        )

    def _ecrm_route_preferred(self, values_by_res_id, keys_by_res_id, cancel_values):
        """Leave out of one batch the recipients who prefer the twin mailing's
        channel and have an address there: their message is cancelled with a
        trace saying which mailing reaches them (``failure_type``
        ``ecrm_channel``), they are neither pressure-checked nor logged here.
        One query per batch, none without a twin. Returns the keys left."""
        self.ensure_one()
        twin = self._ecrm_twin_mailing()
        keys = {key for record_keys in keys_by_res_id.values() for key in record_keys if key}
        if not twin or not keys:
            return keys_by_res_id
        column = "ecrm_email_key" if self._ecrm_pressure_channel() == "email" else "ecrm_phone_key"
        twin_channel = "sms" if twin.mailing_type == "sms" else "email"
        reachable = "phone_sanitized" if twin_channel == "sms" else "email_normalized"
        self.env["res.partner"].flush_model([column, reachable, "ecrm_preferred_channel", "active"])
        rows = self.env.execute_query(
            SQL(
                """SELECT DISTINCT k.key
                     FROM unnest(%(keys)s::varchar[]) AS k(key)
                     JOIN res_partner p ON p.%(column)s = k.key
                    WHERE p.active AND p.ecrm_preferred_channel = %(channel)s AND p.%(reachable)s IS NOT NULL""",
                keys=list(keys),
                column=SQL.identifier(column),
                channel=twin_channel,
                reachable=SQL.identifier(reachable),
            )
        )
        elsewhere = {row[0] for row in rows}
        if not elsewhere:
            return keys_by_res_id
        reason = self.env._(
            "Reached on their preferred channel by mailing %(mailing)s", mailing=twin.subject or twin.display_name
        )
        left = {}
        for res_id, record_keys in keys_by_res_id.items():
            if not elsewhere.intersection(record_keys):
                left[res_id] = record_keys
                continue
            values = values_by_res_id[res_id]
            values.update(cancel_values(reason))
            for command in values.get("mailing_trace_ids") or []:
                command[2].update({"trace_status": "cancel", "failure_type": "ecrm_channel", "failure_reason": reason})
        return left
