# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class EcrmCase(models.Model):
    _inherit = "ecrm.case"

    livechat_channel_id = fields.Many2one(
        "discuss.channel",
        string="Live Chat Conversation",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
        help="The live chat conversation the case was opened from (/case).",
    )
