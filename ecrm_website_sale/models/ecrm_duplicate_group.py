# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.addons.ecrm_addon.tools.identity import KEY_FIELD_OF
from odoo.tools import SQL


class EcrmDuplicateGroup(models.Model):
    _inherit = "ecrm.duplicate.group"

    @api.model
    def _ecrm_flag_partners(self, partners):
        """The review groups of the keys ``partners`` carry, now: the nightly
        scan's query restricted to those keys, and the same fingerprints, so
        that the scan later finds them known (a dismissed set stays dismissed)."""
        groups = self.browse()
        if not partners:
            return groups
        self.env["res.partner"].flush_model([*KEY_FIELD_OF.values(), "active", "commercial_partner_id"])
        self.flush_model()
        for key_type, column in KEY_FIELD_OF.items():
            keys = list(set(partners.mapped(column)) - {False})
            if not keys:
                continue
            self.env.cr.execute(
                SQL(
                    "SELECT * FROM (%s) AS found(key, ids, company_id, companies) WHERE found.key = ANY(%s)",
                    self._ecrm_scan_query(key_type),
                    keys,
                )
            )
            found = {
                f"{key_type}:{key}:{','.join(map(str, ids))}": (key, ids, company_id if companies == 1 else False)
                for key, ids, company_id, companies in self.env.cr.fetchall()
            }
            existing = self.with_context(active_test=False).search_fetch(
                [("key_type", "=", key_type), ("key", "in", keys)], ["fingerprint", "state"]
            )
            known = set(existing.mapped("fingerprint"))
            # an open group of these keys whose set changed is replaced, as the scan does
            existing.filtered(lambda g, found=found: g.state == "open" and g.fingerprint not in found).unlink()
            groups |= self.create(
                [
                    {
                        "key_type": key_type,
                        "key": key,
                        "fingerprint": fingerprint,
                        "partner_ids": [fields.Command.set(ids)],
                        "partner_count": len(ids),
                        "company_id": company_id,
                    }
                    for fingerprint, (key, ids, company_id) in found.items()
                    if fingerprint not in known
                ]
            )
        return groups
