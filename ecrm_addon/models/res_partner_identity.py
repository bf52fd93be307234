# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Identity of a customer: normalised email, phone and tax ID keys, and the matching every channel uses."""

from odoo import api, fields, models, tools
from odoo.osv import expression

from ..tools.identity import identity_keys


def email_key(email):
    """The email key: the address normalised as Odoo does, strictly (one valid address)."""
    return tools.email_normalize(email, strict=True)


class ResPartner(models.Model):
    _inherit = "res.partner"

    ecrm_email_key = fields.Char(
        string="Email Key",
        compute="_compute_ecrm_email_key",
        store=True,
        index="btree_not_null",
        copy=False,
        help="The email normalised as Odoo does (lower case, no name); empty when the email is not "
        "exactly one valid address.",
    )
    ecrm_phone_key = fields.Char(
        string="Phone Key",
        compute="_compute_ecrm_phone_key",
        store=True,
        index="btree_not_null",
        copy=False,
        help="The phone (else the mobile) in E.164 form, read in the contact's country, else its "
        "company's; empty when it is not a valid number.",
    )
    ecrm_vat_key = fields.Char(
        string="VAT Key",
        compute="_compute_ecrm_vat_key",
        store=True,
        index="btree_not_null",
        copy=False,
        help="The tax ID upper-cased without spaces, dots or dashes, its country prefix kept.",
    )

    @api.depends("email")
    def _compute_ecrm_email_key(self):
        for partner in self:
            partner.ecrm_email_key = identity_keys(email_key, email=partner.email).get("ecrm_email_key", False)

    @api.depends("phone", "mobile", "country_id", "company_id")
    def _compute_ecrm_phone_key(self):
        default_region = self.env.company.country_id.code
        for partner in self:
            region = partner.country_id.code or partner.company_id.country_id.code or default_region
            keys = identity_keys(email_key, phones=(partner.phone, partner.mobile), region=region)
            partner.ecrm_phone_key = keys.get("ecrm_phone_key", False)

    @api.depends("vat")
    def _compute_ecrm_vat_key(self):
        for partner in self:
            partner.ecrm_vat_key = identity_keys(email_key, vat=partner.vat).get("ecrm_vat_key", False)

    @api.model
    def _ecrm_identity_keys(self, email=None, phone=None, vat=None, country=None):
        """Normalise loose identifiers into the keys stored on partners:
        ``{'ecrm_email_key': ..., ...}`` with only the keys that could be computed."""
        # the region reads national phone numbers only: the company's country is not read without one
        region = None
        if phone:
            region = (country or self.env.company.country_id).code if not isinstance(country, str) else country
        return identity_keys(email_key, email=email, phones=(phone,), vat=vat, region=region)

    @api.model
    def _ecrm_match_candidates(self, email=None, phone=None, vat=None, country=None, company=None):
        """Every partner (contact or company) carrying one of the identifiers,
        best first: the partner that is its own commercial entity, then the
        commercial entity most recently active (last confirmed order, last
        interaction, last change). One query finds them; ranking several
        customers costs two grouped reads more.

        ``company`` (a res.company): a message to that company (a case) is
        matched only to its partners or shared ones, never to the partner of an
        internal user."""
        keys = self._ecrm_identity_keys(email=email, phone=phone, vat=vat, country=country)
        if not keys:
            return self.browse()
        domain = expression.OR([[(fname, "=", key)] for fname, key in keys.items()])
        if company:
            domain = expression.AND([domain, self._ecrm_customer_of_domain(company)])
        candidates = self.search_fetch(domain, ["commercial_partner_id", "write_date"])
        return candidates._ecrm_ranked()

    def _ecrm_ranked(self, last_active=None):
        """The partners in self, best first: those of the most recently active
        customer (last confirmed order or interaction, else last change), and
        within a customer the commercial partner itself. ``last_active`` is
        ``_ecrm_last_activity()`` of their commercial partners when the caller
        already has it."""
        if len(self) < 2:
            return self
        commercials = self.commercial_partner_id
        if last_active is None:
            last_active = commercials._ecrm_last_activity() if len(commercials) > 1 else {}

        def rank(partner):
            commercial = partner.commercial_partner_id
            # a customer with orders or touches beats one only ever edited
            return (
                commercial.id in last_active,
                last_active.get(commercial.id) or commercial.write_date,
                commercial.id,
                partner == commercial,
                partner.id,
            )

        return self.sorted(rank, reverse=True)

    @api.model
    def _ecrm_match(self, email=None, phone=None, vat=None, country=None, company=None):
        """Return the existing customer (commercial partner) the identifiers point
        to, the most recently active when several do; an empty recordset when none.

        ``country`` (a res.country or its code) reads a national phone number;
        the current company's country by default. ``company``: only partners of
        that company or shared ones, never an internal user's (see
        ``_ecrm_match_candidates``). Every inbound channel calls it before it
        creates a partner."""
        candidates = self._ecrm_match_candidates(email=email, phone=phone, vat=vat, country=country, company=company)
        return candidates[:1].commercial_partner_id

    @api.model
    def _ecrm_customer_of_domain(self, company):
        """Partners a message to ``company`` may come from: that company's or
        shared ones, not the partner of an internal user (active or not)."""
        return [
            ("company_id", "in", [company.id, False]),
            ("user_ids", "not any", [("share", "=", False), ("active", "in", [True, False])]),
        ]

    def _ecrm_last_activity(self):
        """{commercial partner id: datetime of its latest confirmed order or
        interaction} for the commercial partners in self that have any."""
        contacts = self.with_context(active_test=False).search_fetch(
            [("commercial_partner_id", "in", self.ids)], ["commercial_partner_id"]
        )
        last = {}
        # sudo: only dates are read, to rank customers who already matched; the
        # caller (mail gateway, API user) need not read sales or the log.
        order_groups = (
            self.env["sale.order"]
            .sudo()
            ._read_group(
                [("partner_id", "in", contacts.ids), ("state", "=", "sale")],
                ["partner_id"],
                ["date_order:max"],
            )
        )
        log_groups = (
            self.env["ecrm.interaction"]
            .sudo()
            ._read_group(
                [("commercial_partner_id", "in", self.ids)],
                ["commercial_partner_id"],
                ["date:max"],
            )
        )
        dates = [(partner.sudo().commercial_partner_id.id, date) for partner, date in order_groups]
        dates += [(partner.id, date) for partner, date in log_groups]
        for partner_id, date in dates:
            if date and (not last.get(partner_id) or date > last[partner_id]):
                last[partner_id] = date
        return last

    @api.model
    @api.returns("self", lambda value: value.id)
    def find_or_create(self, email, assert_valid_email=False):
        """Find the partner of an email-like string through the identity keys
        (the most recently active customer first) before Odoo's own lookup,
        which creates a partner when nothing matches."""
        if email:
            _name, normalized = tools.parse_contact_from_email(email)
            if normalized:
                found = self._ecrm_match_candidates(email=normalized).filtered(
                    lambda p: p.ecrm_email_key == normalized
                )[:1]
                if found:
                    return found
        return super().find_or_create(email, assert_valid_email=assert_valid_email)
