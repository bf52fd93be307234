# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from ..tools.identity import KEY_FIELD_OF

KEY_TYPES = [("email", "Email"), ("phone", "Phone"), ("vat", "Tax ID")]


class EcrmDuplicateGroup(models.Model):
    """Partners of different customers sharing an identity key: a review item.

    The scan creates one group per key and set of partners. Dismissing a group
    remembers that exact set (its fingerprint), so later scans leave it alone
    until another partner joins it; merging goes through Odoo's merge wizard.
    """

    _name = "ecrm.duplicate.group"
    _description = "Possible Duplicate Customers"
    _order = "state, partner_count desc, id desc"

    name = fields.Char(compute="_compute_name", store=True)
    key_type = fields.Selection(KEY_TYPES, string="Shared", required=True, readonly=True)
    key = fields.Char(required=True, readonly=True, index=True)
    fingerprint = fields.Char(
        required=True,
        readonly=True,
        copy=False,
        help="Key and partners of the group; a dismissed fingerprint is not reopened.",
    )
    partner_ids = fields.Many2many(
        "res.partner",
        "ecrm_duplicate_group_partner_rel",
        "group_id",
        "partner_id",
        string="Partners",
        readonly=True,
        context={"active_test": False},
    )
    partner_count = fields.Integer(string="Partners Count", readonly=True)
    state = fields.Selection(
        [("open", "To Review"), ("dismissed", "Not a Duplicate"), ("merged", "Merged")],
        default="open",
        required=True,
        readonly=True,
        index=True,
    )
    company_id = fields.Many2one("res.company", readonly=True)
    company_ids = fields.Many2many(
        "res.company",
        string="Companies",
        compute="_compute_company_ids",
        store=True,
        help="Companies of the group's partners: a group shows a customer's email, phone or tax ID "
        "only to users of all of them.",
    )
    review_user_id = fields.Many2one("res.users", string="Reviewed By", readonly=True)
    review_date = fields.Datetime(string="Reviewed On", readonly=True)
    kept_partner_id = fields.Many2one("res.partner", readonly=True, ondelete="set null")

    _sql_constraints = [
        ("fingerprint_uniq", "unique(fingerprint)", "This set of partners is already a duplicate group."),
    ]

    @api.depends("key_type", "key")
    def _compute_name(self):
        labels = dict(self._fields["key_type"]._description_selection(self.env))
        for group in self:
            group.name = f"{labels.get(group.key_type, '')}: {group.key or ''}"

    @api.depends("partner_ids.company_id")
    def _compute_company_ids(self):
        for group in self:
            group.company_ids = group.partner_ids.company_id

    def _ecrm_check_manager(self):
        if not self.env.user.has_group("ecrm_addon.group_ecrm_manager"):
            raise AccessError(self.env._("Only e-CRM managers review duplicate customers."))

    def action_dismiss(self):
        """Not a duplicate: remembered, the next scan does not reopen this set."""
        self._ecrm_check_manager()
        # sudo: groups are written by the scan and these reviews only, never edited
        # over RPC; the manager's rights to read them were checked by the rules
        self.check_access("read")
        self.filtered(lambda g: g.state == "open").sudo().write(
            {"state": "dismissed", "review_user_id": self.env.uid, "review_date": fields.Datetime.now()}
        )

    def action_reopen(self):
        self._ecrm_check_manager()
        self.check_access("read")
        # sudo: see action_dismiss
        self.filtered(lambda g: g.state == "dismissed").sudo().write(
            {"state": "open", "review_user_id": False, "review_date": False}
        )

    def action_merge(self):
        """Open Odoo's merge wizard on the group's partners."""
        self.ensure_one()
        self._ecrm_check_manager()
        if self.state != "open":
            raise UserError(self.env._("Only a group to review can be merged."))
        partners = self.partner_ids.exists()
        if len(partners) < 2:
            raise UserError(self.env._("This group has fewer than two partners left: nothing to merge."))
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Merge"),
            "res_model": "base.partner.merge.automatic.wizard",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {
                "active_model": "res.partner",
                "active_ids": partners.ids,
                "ecrm_duplicate_group_id": self.id,
            },
        }

    def action_open_partners(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.name,
            "res_model": "res.partner",
            "view_mode": "list,form",
            "domain": [("id", "in", self.partner_ids.ids)],
        }

    @api.model
    def action_scan(self):
        """Manager button "Scan Now": wakes the daily scan up in the background
        (the browser does not wait); the manager is notified when it is done."""
        self._ecrm_check_manager()
        return self.env["ecrm.job.request"]._ecrm_request("duplicates")

    @api.model
    def _ecrm_scan_query(self, key_type):
        """Set-based: every key shared by partners of more than one customer
        (companies only for the tax ID, which contacts inherit)."""
        column = SQL.identifier(KEY_FIELD_OF[key_type])
        only_commercial = SQL("AND p.id = p.commercial_partner_id") if key_type == "vat" else SQL()
        return SQL(
            """
            SELECT p.%(column)s, array_agg(p.id ORDER BY p.id), min(p.company_id), count(DISTINCT p.company_id)
              FROM res_partner p
             WHERE p.active AND p.%(column)s IS NOT NULL %(only_commercial)s
          GROUP BY p.%(column)s
            HAVING count(DISTINCT p.commercial_partner_id) > 1
            """,
            column=column,
            only_commercial=only_commercial,
        )

    @api.model
    def _ecrm_scan(self):
        """Create or refresh the duplicate groups, one slice per key type.

        Safe to run twice or in parallel: a transaction-level advisory lock
        lets one scan through, the fingerprint makes every group unique, and a
        set already dismissed or reviewed is never reopened."""
        self.env.cr.execute(SQL("SELECT pg_try_advisory_xact_lock(hashtext('ecrm_duplicate_scan'))"))
        if not self.env.cr.fetchone()[0]:
            return self.browse()
        self.env["res.partner"].flush_model([*KEY_FIELD_OF.values(), "active", "commercial_partner_id"])
        self.flush_model()
        created = self.browse()
        for done, key_type in enumerate(KEY_TYPES, start=1):
            created |= self._ecrm_scan_slice(key_type[0])
            self.env["ir.cron"]._notify_progress(done=done, remaining=len(KEY_TYPES) - done)
        return created

    @api.model
    def _ecrm_scan_slice(self, key_type):
        self.env.cr.execute(self._ecrm_scan_query(key_type))
        found = {
            f"{key_type}:{key}:{','.join(map(str, ids))}": (key, ids, company_id if companies == 1 else False)
            for key, ids, company_id, companies in self.env.cr.fetchall()
        }
        existing = self.with_context(active_test=False).search_fetch(
            [("key_type", "=", key_type)], ["fingerprint", "state", "key"]
        )
        known = set(existing.mapped("fingerprint"))
        # open groups whose set changed or disappeared are stale: the new set replaces them
        existing.filtered(lambda g: g.state == "open" and g.fingerprint not in found).unlink()
        return self.create(
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

    @api.model
    def _cron_ecrm_scan_duplicates(self):
        requests = self.env["ecrm.job.request"]._ecrm_start("duplicates")
        self._ecrm_scan()
        requests._ecrm_done(
            "duplicates",
            lambda env: env._(
                "Duplicate scan done: %(count)s groups to review.",
                count=env["ecrm.duplicate.group"].search_count([("state", "=", "open")]),
            ),
        )
