# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models

# activity type category -> interaction channel
ACTIVITY_CHANNELS = {"phonecall": "phone", "meeting": "meeting"}


class MailActivity(models.Model):
    _inherit = "mail.activity"

    def _action_done(self, feedback=False, attachment_ids=None):
        # read before the parent unlinks the activities
        vals_list = self._ecrm_interaction_values(feedback)
        result = super()._action_done(feedback=feedback, attachment_ids=attachment_ids)
        if vals_list:
            self.env["ecrm.interaction"]._log(vals_list)
        return result

    def _ecrm_interaction_values(self, feedback=False):
        """Log values for the calls and meetings in self, found with one read of
        the documents' customers per model."""
        touches = self.filtered(lambda a: a.activity_type_id.category in ACTIVITY_CHANNELS)
        if not touches:
            return []
        partner_of = {}
        company_of = {}
        for model, activities in touches.grouped("res_model").items():
            # sudo: whoever may mark the activity done may log it, as Odoo posts its message
            records = self.env[model].sudo().browse(activities.mapped("res_id")).exists()
            if model == "res.partner":
                partner_of.update({(model, partner.id): partner.id for partner in records})
            elif "partner_id" in records._fields and records._fields["partner_id"].comodel_name == "res.partner":
                partner_of.update({(model, record.id): record.partner_id.id for record in records})
            if "company_id" in records._fields and records._fields["company_id"].comodel_name == "res.company":
                # the touch belongs to the document's company, not the user's current one
                company_of.update({(model, record.id): record.company_id.id for record in records})
        now = fields.Datetime.now()
        Interaction = self.env["ecrm.interaction"]
        return [
            Interaction._log_values(
                self.env[activity.res_model].browse(activity.res_id),
                partner_of[(activity.res_model, activity.res_id)],
                activity.summary or activity.activity_type_id.name,
                ACTIVITY_CHANNELS[activity.activity_type_id.category],
                "outbound",
                "sales" if activity.res_model in ("sale.order", "crm.lead") else "service",
                date=now,
                user_id=activity.user_id.id or self.env.uid,
                company_id=company_of.get((activity.res_model, activity.res_id)) or self.env.company.id,
            )
            for activity in touches
            if partner_of.get((activity.res_model, activity.res_id))
        ]
