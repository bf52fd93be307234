# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models

from .mailing_mailing import PressureSimulationDone


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

    def _action_send_mail(self, auto_commit=False):
        """A simulated sending (context key ``ecrm_pressure_simulation``, see
        ``mailing.mailing._ecrm_pressure_simulate``) runs Odoo's batches
        without committing, then stops Odoo's send before it marks the mailing
        as sent."""
        if self.env.context.get("ecrm_pressure_simulation") is None:
            return super()._action_send_mail(auto_commit=auto_commit)
        super()._action_send_mail(auto_commit=False)
        raise PressureSimulationDone()

    def _prepare_mail_values(self, res_ids):
        """In a mass mailing, exclude (or defer) the recipients a pressure rule
        blocks and log the others as marketing interactions: one query per batch.
        A simulated batch ends here: no mail is created, only the traces it
        would leave are remembered for the next batches (Odoo's seen list)."""
        mail_values_all = super()._prepare_mail_values(res_ids)
        if self.composition_mode != "mass_mail":
            return mail_values_all
        if self.mass_mailing_id and self.model_is_thread:
            mail_values_all = self._ecrm_pressure_apply(mail_values_all)
        simulation = self.env.context.get("ecrm_pressure_simulation")
        if simulation is None:
            return mail_values_all
        simulation.seen_emails.extend(
            command[2]["email"]
            for mail_values in mail_values_all.values()
            for command in mail_values.get("mailing_trace_ids") or []
            if command[2].get("email")
        )
        return {}

    def _ecrm_pressure_apply(self, mail_values_all):
        """The mailing's pressure rules on the mails Odoo itself did not cancel."""
        candidates = {
            res_id: mail_values
            for res_id, mail_values in mail_values_all.items()
            if mail_values.get("state") != "cancel"
        }
        if not candidates:
            return mail_values_all
        recipients = self._get_recipients_data(candidates)
        keys = {res_id: info["mail_to_normalized"] for res_id, info in recipients.items()}
        return self.mass_mailing_id._ecrm_pressure_apply(
            mail_values_all,
            keys,
            lambda reason: {
                "state": "cancel",
                "failure_type": "ecrm_pressure",
                "failure_reason": reason,
                "is_notification": False,
            },
        )

    def _get_done_emails(self, mail_values_dict):
        # a simulated batch sees the traces the simulated batches before it
        # would have left (Odoo's seen list reads them from the database)
        done = super()._get_done_emails(mail_values_dict)
        simulation = self.env.context.get("ecrm_pressure_simulation")
        if simulation is not None and self.mass_mailing_id:
            done += simulation.seen_emails
        return done
