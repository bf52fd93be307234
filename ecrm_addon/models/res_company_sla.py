# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models

# The shipped SLA policies, by key: the XML id of a company's copy is
# ``ecrm_addon.<company id>_ecrm_sla_policy_<key>``.
SLA_POLICY_KEYS = ("urgent", "standard")


class ResCompany(models.Model):
    """Every company gets the two shipped SLA policies (standard; urgent or
    Champions customers), in its working hours, for the shop to edit."""

    _inherit = "res.company"

    @api.model_create_multi
    def create(self, vals_list):
        companies = super().create(vals_list)
        companies._ecrm_create_sla_policies()
        return companies

    @api.model
    def _ecrm_install_sla_policies(self):
        """At install (data file): the shipped policies for every company."""
        self.sudo().search([])._ecrm_create_sla_policies()  # sudo: every company, whoever installs
        return True

    def _ecrm_sla_levels(self, watch):
        """The escalation chain of a shipped policy for one deadline."""
        if watch == "response":
            names = (
                self.env._("Response: warn the assignee at 75 %"),
                self.env._("Response: notify the team leader at breach"),
                self.env._("Response: raise the priority 8 h after breach"),
            )
        else:
            names = (
                self.env._("Resolution: warn the assignee at 75 %"),
                self.env._("Resolution: notify the team leader at breach"),
                self.env._("Resolution: raise the priority 8 h after breach"),
            )
        sequence = 10 if watch == "response" else 40
        return [
            {"name": names[0], "sequence": sequence, "watch": watch, "delay_percent": -25, "notify_assignee": True},
            {"name": names[1], "sequence": sequence + 10, "watch": watch, "notify_team_leader": True},
            {"name": names[2], "sequence": sequence + 20, "watch": watch, "delay_hours": 8, "raise_priority": True},
        ]

    def _ecrm_sla_policy_values(self):
        """{key: values} of this company's shipped SLA policies (names in the context's language)."""
        self.ensure_one()
        levels = [*self._ecrm_sla_levels("response"), *self._ecrm_sla_levels("resolution")]
        return {
            "urgent": {
                "name": self.env._("Urgent or Champions"),
                "sequence": 5,
                "company_id": self.id,
                "domain": "['|', ('priority', '=', '3'), ('ecrm_segment_id.code', '=', 'champions')]",
                "response_hours": 2,
                "resolution_hours": 8,
                "level_ids": [(0, 0, level) for level in levels],
            },
            "standard": {
                "name": self.env._("Standard"),
                "sequence": 90,
                "company_id": self.id,
                "response_hours": 8,
                "resolution_hours": 40,
                "level_ids": [(0, 0, level) for level in levels],
            },
        }

    def _ecrm_sla_policy(self, key):
        """This company's copy of the shipped policy ``key`` (empty if the shop deleted it)."""
        self.ensure_one()
        return (
            self.env.ref(f"ecrm_addon.{self.id}_ecrm_sla_policy_{key}", raise_if_not_found=False)
            or self.env["ecrm.escalation.policy"].browse()
        )

    def _ecrm_create_sla_policies(self):
        """Create the shipped SLA policies these companies do not have yet, with
        their names in every installed language."""
        Data = self.env["ir.model.data"].sudo()
        names = {f"{company.id}_ecrm_sla_policy_{key}" for company in self for key in SLA_POLICY_KEYS}
        existing = set(Data.search([("module", "=", "ecrm_addon"), ("name", "in", list(names))]).mapped("name"))
        langs = [code for code, _name in self.env["res.lang"].get_installed() if code != "en_US"]
        # sudo: the shipped configuration is the system's, whoever creates the company
        Policy = self.env["ecrm.escalation.policy"].sudo().with_context(lang="en_US")
        for company in self.with_context(lang="en_US"):
            if not company.resource_calendar_id:
                continue  # policies count working hours: none without a calendar
            translated = {lang: company.with_context(lang=lang)._ecrm_sla_policy_values() for lang in langs}
            for key, vals in company._ecrm_sla_policy_values().items():
                name = f"{company.id}_ecrm_sla_policy_{key}"
                if name in existing:
                    continue
                policy = Policy.create(vals)
                Data.create(
                    {
                        "module": "ecrm_addon",
                        "name": name,
                        "model": policy._name,
                        "res_id": policy.id,
                        "noupdate": True,
                    }
                )
                for lang, values in translated.items():
                    policy.update_field_translations("name", {lang: values[key]["name"]})
                    for level, level_vals in zip(policy.level_ids, values[key]["level_ids"], strict=True):
                        level.update_field_translations("name", {lang: level_vals[2]["name"]})
