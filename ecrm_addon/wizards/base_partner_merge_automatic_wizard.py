# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, format_datetime


class MergePartnerAutomatic(models.TransientModel):
    _inherit = "base.partner.merge.automatic.wizard"

    @api.model
    def default_get(self, fields_list):
        """From a duplicate group, keep by default the partner of the most
        recently active customer (Odoo keeps the newest one)."""
        res = super().default_get(fields_list)
        if self.env.context.get("ecrm_duplicate_group_id") and res.get("partner_ids"):
            partner_ids = self.env.context.get("active_ids") or []
            partners = self.env["res.partner"].browse(partner_ids).exists()
            if partners and "dst_partner_id" in fields_list:
                res["dst_partner_id"] = partners._ecrm_ranked()[:1].id
        return res

    def _ecrm_count_linked(self, partners):
        """{label: count} of the records that point at ``partners`` and that a
        merge moves: orders, invoices, deliveries, interactions, messages,
        followers. Counted under the user's own rights (other companies' records,
        or a model the user may not read, are not told); the merge itself moves
        every row."""
        ids = partners.ids
        searches = [
            (self.env._("Orders"), "sale.order", [("partner_id", "in", ids)]),
            (self.env._("Invoices"), "account.move", [("partner_id", "in", ids), ("move_type", "!=", "entry")]),
            (self.env._("Deliveries"), "stock.picking", [("partner_id", "in", ids)]),
            (self.env._("Interactions"), "ecrm.interaction", [("partner_id", "in", ids)]),
            (self.env._("Followers"), "mail.followers", [("partner_id", "in", ids)]),
            (
                self.env._("Messages"),
                "mail.message",
                ["|", "&", ("model", "=", "res.partner"), ("res_id", "in", ids), ("author_id", "in", ids)],
            ),
        ]
        return {
            label: self.env[model].search_count(domain)
            for label, model, domain in searches
            if self.env[model].has_access("read")
        }

    def _merge(self, partner_ids, dst_partner=None, extra_checks=True):
        group = self.env["ecrm.duplicate.group"]
        partners = self.env["res.partner"].browse(partner_ids).exists()
        self._ecrm_check_no_users(partners)
        reviewed = False
        if group_id := self.env.context.get("ecrm_duplicate_group_id"):
            group = group.browse(group_id).exists()
            if group and extra_checks and self._ecrm_check_group_merge(group, partners):
                extra_checks = False
                reviewed = True
        # partners other than the kept one, as Odoo picks it when none is given
        kept = dst_partner if dst_partner in partners else self._get_ordered_partner(partners.ids)[-1:]
        sources = partners - kept
        if len(partners) < 2 or not kept:
            return super()._merge(partner_ids, dst_partner=dst_partner, extra_checks=extra_checks)
        descriptions = [f"{partner.display_name} (#{partner.id})" for partner in sources]
        record = self._ecrm_merge_record(descriptions, self._ecrm_count_linked(sources))
        merger = self.with_context(ecrm_merge_record=record)
        if reviewed:
            # sudo: the merge of a reviewed duplicate group is authorised above; the
            # modules that move their own references read them through the ORM
            # (website: the partners' visitors), which an e-CRM manager may not read.
            # The user stays the author of the merge note.
            merger = merger.sudo()
            dst_partner = dst_partner and dst_partner.sudo()
        result = super(MergePartnerAutomatic, merger)._merge(
            partner_ids, dst_partner=dst_partner, extra_checks=extra_checks
        )
        if sources.exists():
            return result  # nothing was merged
        self._ecrm_after_merge(kept, group)
        return result

    def _log_merge_operation(self, src_partners, dst_partner):
        """The merge record (who, when, what moved) goes into the note Odoo
        posts on the kept partner, so that a merge still leaves one note."""
        super()._log_merge_operation(src_partners, dst_partner)
        record = self.env.context.get("ecrm_merge_record")
        if not record:
            return
        # sudo: the note was just posted by this merge; only its body is completed
        note = (
            self.env["mail.message"]
            .sudo()
            .search([("model", "=", "res.partner"), ("res_id", "=", dst_partner.id)], order="id desc", limit=1)
        )
        if note:
            note.body = Markup("%s%s") % (note.body or "", record)
        else:
            dst_partner.message_post(body=record, subtype_xmlid="mail.mt_note")

    def _ecrm_merge_record(self, descriptions, moved):
        return Markup("<p>%s</p><ul>%s</ul>") % (
            self.env._(
                "Merged by %(user)s on %(date)s: %(partners)s.",
                user=self.env.user.name,
                date=format_datetime(self.env, fields.Datetime.now()),
                partners=", ".join(descriptions),
            ),
            Markup("").join(Markup("<li>%s: %s</li>") % (escape(label), count) for label, count in moved.items()),
        )

    def _ecrm_check_no_users(self, partners):
        """Only Administrators merge the partner of a user: a merge moves the
        user (their login, rights and portal access) onto the kept partner."""
        if self.env.is_admin():
            return
        # sudo: only whether a user (active or not) holds one of the partners
        users = partners.sudo().with_context(active_test=False).user_ids
        if users:
            raise UserError(
                self.env._(
                    "These contacts belong to users (%(users)s): only an Administrator can merge them.",
                    users=", ".join(users.mapped("name")),
                )
            )

    def _ecrm_check_group_merge(self, group, partners):
        """True when an e-CRM manager may merge ``partners`` from the duplicate
        ``group`` without Odoo's "same email" check: the partners all belong to
        the group and their emails are equal once normalised, or empty.

        Different emails stay under Odoo's rule (only Administrators merge
        them); a clear error says so instead of Odoo's generic one."""
        if self.env.is_admin() or not self.env.user.has_group("ecrm_addon.group_ecrm_manager"):
            return False
        if partners - group.partner_ids:
            return False
        emails = {
            partner.ecrm_email_key or partner.email.strip()
            for partner in partners
            if partner.email and partner.email.strip()
        }
        if len(emails) > 1:
            raise UserError(
                self.env._(
                    "These contacts have different email addresses (%(emails)s). e-CRM managers can merge "
                    "duplicates whose emails are the same (ignoring case and names) or empty; merging "
                    "different addresses needs an Administrator, as in Odoo's merge wizard.",
                    emails=", ".join(sorted(emails)),
                )
            )
        return True

    def _ecrm_after_merge(self, kept, group):
        # interactions moved by SQL keep the old commercial entity: align them
        self.env.cr.execute(
            SQL(
                """UPDATE ecrm_interaction i SET commercial_partner_id = p.commercial_partner_id
                     FROM res_partner p
                    WHERE p.id = i.partner_id AND p.commercial_partner_id = %(commercial)s
                      AND i.commercial_partner_id IS DISTINCT FROM p.commercial_partner_id""",
                commercial=kept.commercial_partner_id.id,
            )
        )
        self.env["ecrm.interaction"].invalidate_model(["commercial_partner_id"])
        now = fields.Datetime.now()
        # the group merged, and any other group the merge left with one partner
        groups = group | self.env["ecrm.duplicate.group"].search(
            [("state", "=", "open"), ("partner_ids", "in", kept.ids)]
        )
        # sudo: the merge closes the groups it settled (groups are not edited over RPC)
        groups.filtered(lambda g: g == group or len(g.partner_ids.exists()) < 2).sudo().write(
            {"state": "merged", "kept_partner_id": kept.id, "review_user_id": self.env.uid, "review_date": now}
        )
