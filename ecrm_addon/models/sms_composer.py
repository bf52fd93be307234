# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from ast import literal_eval

from odoo import api, fields, models


class SmsComposer(models.TransientModel):
    _inherit = "sms.composer"

    ecrm_pressure_warning = fields.Char(compute="_compute_ecrm_pressure_warning")

    @api.depends("composition_mode", "res_model", "res_id", "res_ids", "mailing_id")
    def _compute_ecrm_pressure_warning(self):
        """Warn (never block) when a marketing SMS outside a mailing goes to
        customers over pressure; mailings enforce the rules themselves."""
        Rule = self.env["ecrm.pressure.rule"]
        for composer in self:
            composer.ecrm_pressure_warning = False
            if composer.mailing_id or not composer.res_model or composer.composition_mode == "numbers":
                continue
            res_ids = literal_eval(composer.res_ids) if composer.res_ids else [composer.res_id]
            records = self.env[composer.res_model].browse([rid for rid in res_ids if rid])
            if not records or not hasattr(records, "_sms_get_recipients_info"):
                continue
            info = records._sms_get_recipients_info(force_field=composer.number_field_name)
            numbers = [values["sanitized"] for values in info.values() if values["sanitized"]]
            verdicts = Rule._ecrm_check(self.env.company, "sms", "marketing", keys=numbers)
            blocked = [verdict for verdict in verdicts.values() if verdict.rule_id]
            if blocked:
                # sudo: the warning names the rule to a sender who may not read rules.
                rule = Rule.sudo().browse(blocked[0].rule_id)
                composer.ecrm_pressure_warning = self.env._(
                    "%(count)s recipient(s) already reached the contact-pressure limit (%(rule)s). "
                    "You may still send this SMS.",
                    count=len(blocked),
                    rule=rule.name,
                )

    def _prepare_mass_sms_values(self, records):
        """In an SMS mailing, exclude (or defer) the recipients a pressure rule
        blocks and log the others as marketing interactions: one query per batch.
        A simulated sending (see ``mailing.mailing._ecrm_pressure_simulate``)
        ends here: no SMS is created."""
        result = super()._prepare_mass_sms_values(records)
        mailing = self.mailing_id
        if self.composition_mode != "mass" or not mailing:
            return result
        keys = {res_id: [values["number"]] for res_id, values in result.items() if values["state"] == "outgoing"}
        if keys:
            result = mailing._ecrm_pressure_apply(
                result, keys, lambda reason: {"state": "canceled", "failure_type": "ecrm_pressure"}
            )
        if self.env.context.get("ecrm_pressure_simulation") is not None:
            return {}  # a simulated sending creates no SMS
        return result

    def _prepare_body_values(self, records):
        # a simulation decides nothing on the text: no rendering, no link trackers
        if self.env.context.get("ecrm_pressure_simulation") is not None:
            return dict.fromkeys(records.ids, "")
        return super()._prepare_body_values(records)

    def _prepare_mass_sms(self, records, sms_record_values):
        # Deferred recipients have no SMS (yet).
        records = records.filtered(lambda record: record.id in sms_record_values)
        return super()._prepare_mass_sms(records, sms_record_values)
