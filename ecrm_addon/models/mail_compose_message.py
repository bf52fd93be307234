from odoo import api, fields, models


class MailComposeMessage(models.TransientModel):
    _inherit = "mail.compose.message"

    ecrm_pressure_warning = fields.Char(compute="_compute_ecrm_pressure_warning")

    @api.depends("composition_mode", "partner_ids")
    def _compute_ecrm_pressure_warning(self):
        """Warn (never block) when a one-to-one email goes to a customer over pressure."""
        Rule = self.env["ecrm.pressure.rule"]
        for composer in self:
            composer.ecrm_pressure_warning = False
            partners = composer.partner_ids._origin.commercial_partner_id
            if composer.composition_mode != "comment" or not partners:
                continue
            verdicts = Rule._ecrm_check(self.env.company, "email", "marketing", partner_ids=partners.ids)
            blocked = partners.filtered(lambda p, v=verdicts: v.get(p.id) and v[p.id].rule_id)
            if blocked:
                # sudo: the warning names the rule to a sender who may not read rules.
                rule = Rule.sudo().browse(verdicts[blocked[0].id].rule_id)
                composer.ecrm_pressure_warning = self.env._(
                    "%(customers)s already reached the contact-pressure limit (%(rule)s). "
                    "You may still send this message.",
                    customers=", ".join(blocked.mapped("display_name")),
                    rule=rule.name,
                )

    def _prepare_mail_values(self, res_ids):
        """In a mass mailing, exclude (or defer) the recipients a pressure rule
        blocks and log the others as marketing interactions: one query per batch."""
        mail_values_all = super()._prepare_mail_values(res_ids)
        mailing = self.mass_mailing_id
        if self.composition_mode != "mass_mail" or not mailing or not self.model_is_thread:
            return mail_values_all
        candidates = {
            res_id: mail_values
            for res_id, mail_values in mail_values_all.items()
            if mail_values.get("state") != "cancel"
        }
        if not candidates:
            return mail_values_all
        recipients = self._get_recipients_data(candidates)
        keys = {res_id: info["mail_to_normalized"] for res_id, info in recipients.items()}
        return mailing._ecrm_pressure_apply(
            mail_values_all,
            keys,
            lambda reason: {
                "state": "cancel",
                "failure_type": "ecrm_pressure",
                "failure_reason": reason,
                "is_notification": False,
            },
        )
