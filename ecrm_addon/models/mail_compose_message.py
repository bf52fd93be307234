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
        if self.composition_mode != "mass_mail" or not self.mass_mailing_id or not self.model_is_thread:
            return mail_values_all
        return self._ecrm_pressure_apply(mail_values_all)

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

    def _ecrm_pressure_simulate_batch(self, res_ids):
        """One batch of ``_action_send_mail_mass_mail`` without creating mails:
        the recipients ``_prepare_mail_values_dynamic`` gives a mailing's
        records, Odoo's own exclusions (``_process_mail_values_state``), then
        the pressure rules (in simulation mode, see ``mailing.mailing``)."""
        self.ensure_one()
        records = self.env[self.model].browse(res_ids)
        default_recipients = records._message_get_default_recipients()
        mail_values_all = {}
        for res_id in res_ids:
            values = dict(default_recipients.get(res_id, {}))
            values.pop("email_cc", None)
            partner_ids = set(values.pop("partner_ids", None) or []) | set(self.partner_ids.ids)
            values.update(
                recipient_ids=[(4, pid) for pid in partner_ids],
                attachment_ids=list(self.attachment_ids.ids),
            )
            mail_values_all[res_id] = values
        recipients = self._get_recipients_data(mail_values_all)
        # Odoo compares subject and body of records sharing an address (its
        # duplicate check): render them for those only, as the sending does.
        seen = {}
        for res_id, info in recipients.items():
            for email in info["mail_to_normalized"]:
                seen.setdefault(email, []).append(res_id)
        shared = sorted({res_id for ids in seen.values() if len(ids) > 1 for res_id in ids})
        subjects = self._render_field("subject", shared, compute_lang=True) if shared else {}
        bodies = (
            self._render_field("body", shared, compute_lang=True, options={"preserve_comments": True}) if shared else {}
        )
        for res_id, values in mail_values_all.items():
            values.update(subject=subjects.get(res_id, res_id), body=bodies.get(res_id, res_id))
        mail_values_all = self._process_mail_values_state(mail_values_all)
        mail_values_all = self._ecrm_pressure_apply(mail_values_all)
        # the traces this batch would leave: one per mail created (deferred ones have none)
        self.env.context["ecrm_pressure_simulation"].seen_emails.extend(
            recipients[res_id]["mail_to"][0] for res_id in mail_values_all if recipients[res_id]["mail_to"]
        )
        return mail_values_all
