from datetime import timedelta
from urllib.parse import urlencode

from markupsafe import Markup

from odoo import Command, api, fields, models, modules, tools
from odoo.exceptions import AccessError, UserError
from odoo.osv import expression
from odoo.tools import SQL

from ..tools.identity import phone_key, vat_key
from ..tools.pressure import PRESSURE_HORIZON_HALF_LIVES
from .ecrm_rfm_score import RFM_SCORE_FIELDS, ecrm_empty_matches

# Channels a customer may prefer to be reached on (a subset of the interaction channels).
PREFERRED_CHANNELS = [
    ("email", "Email"),
    ("sms", "SMS"),
    ("phone", "Phone"),
    ("letter", "Letter"),
    ("portal", "Portal"),
]
ECRM_USER = "ecrm_addon.group_ecrm_user"
# Portal consent: the signed link that opts an email back in, and how long it works
CONSENT_TOKEN_SCOPE = "ecrm_addon-consent-email-optin"
CONSENT_LINK_HOURS = 72
# ...and how often a customer may have one sent (the shop mails the address they typed)
CONSENT_RESEND_MINUTES = 10
# Deliveries still to do, orders still moving
PENDING_PICKING_STATES = ("waiting", "confirmed", "assigned")
OPEN_DELIVERY_STATUSES = ("pending", "started", "partial")
# How many touches the customer 360 timeline shows; the full log is one click away.
TIMELINE_SIZE = 20
IDENTITY_KEY_FIELDS = ("ecrm_email_key", "ecrm_phone_key", "ecrm_vat_key")
# The partner fields each identity key is computed from
IDENTITY_VALUE_FIELDS = {
    "ecrm_email_key": ("email",),
    "ecrm_phone_key": ("phone", "mobile"),
    "ecrm_vat_key": ("vat",),
}
# Fields an import never fills on the existing customer a row matched: empty
# means "shared by every company" / "an individual", not "unknown".
IMPORT_KEEP_FIELDS = ("company_id", "parent_id")
# Matched rows named one by one in the import message; the rest are counted.
IMPORT_MESSAGE_ROWS = 20


class EcrmImportMatches:
    """Rows of one ``load()`` that landed on existing partners, collected by
    ``_load_records`` (passed in the context, as Odoo passes ``import_flush``)."""

    def __init__(self):
        self.rows = []


class ResPartner(models.Model):
    _inherit = "res.partner"

    # --- Identity keys, matching, duplicates, customer 360 -----------------

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

    ecrm_preferred_channel = fields.Selection(
        PREFERRED_CHANNELS,
        string="Preferred Channel",
        help="The channel the customer asked to be reached on.",
    )
    ecrm_lang = fields.Selection(related="lang", string="Customer Language", readonly=False)
    # Customer 360: figures of the commercial partner across all its contacts,
    # computed with grouped reads for the whole recordset.
    # The currency of every e-CRM amount (360 and RFM): the current company's.
    # Defined once, computed on its own: a compute that assigns a field it does
    # not compute turns the assignment into a write() (a read would then write).
    ecrm_currency_id = fields.Many2one(
        "res.currency", compute="_compute_ecrm_currency_id", string="e-CRM Currency", groups=ECRM_USER
    )
    ecrm_lifetime_sales = fields.Monetary(
        string="Lifetime Sales",
        compute="_compute_ecrm_360",
        currency_field="ecrm_currency_id",
        groups=ECRM_USER,
        help="Untaxed total of the confirmed orders of the customer and its contacts, in the company currency.",
    )
    ecrm_sale_count = fields.Integer(string="Confirmed Orders", compute="_compute_ecrm_360", groups=ECRM_USER)
    ecrm_open_order_count = fields.Integer(
        string="Open Orders",
        compute="_compute_ecrm_360",
        groups=ECRM_USER,
        help="Confirmed orders not yet fully delivered or invoiced.",
    )
    ecrm_pending_delivery_count = fields.Integer(
        string="Pending Deliveries",
        compute="_compute_ecrm_360",
        groups=ECRM_USER,
        help="Deliveries to the customer that are neither done nor cancelled.",
    )
    ecrm_unpaid_amount = fields.Monetary(
        string="Unpaid Invoices",
        compute="_compute_ecrm_360",
        currency_field="ecrm_currency_id",
        groups=ECRM_USER,
        help="Amount still due on the customer's posted invoices, less its credit notes.",
    )
    ecrm_unpaid_invoice_count = fields.Integer(
        string="Unpaid Invoice Count", compute="_compute_ecrm_360", groups=ECRM_USER
    )
    ecrm_interaction_count = fields.Integer(string="Interactions", compute="_compute_ecrm_360", groups=ECRM_USER)
    ecrm_last_interaction_date = fields.Datetime(
        string="Last Interaction", compute="_compute_ecrm_360", groups=ECRM_USER
    )
    ecrm_timeline_ids = fields.Many2many(
        "ecrm.interaction",
        string="Last Interactions",
        compute="_compute_ecrm_timeline",
        groups=ECRM_USER,
        help="The latest touches with the customer and its contacts, every channel.",
    )
    ecrm_mailing_optout_count = fields.Integer(
        string="Mailing List Opt-outs",
        compute="_compute_ecrm_consent",
        groups=ECRM_USER,
        help="Mailing lists this email address left.",
    )

    @api.depends("email")
    def _compute_ecrm_email_key(self):
        for partner in self:
            partner.ecrm_email_key = tools.email_normalize(partner.email or "", strict=True) or False

    @api.depends("phone", "mobile", "country_id", "company_id")
    def _compute_ecrm_phone_key(self):
        default_region = self.env.company.country_id.code
        for partner in self:
            region = partner.country_id.code or partner.company_id.country_id.code or default_region
            partner.ecrm_phone_key = phone_key(partner.phone, region) or phone_key(partner.mobile, region) or False

    @api.depends("vat")
    def _compute_ecrm_vat_key(self):
        for partner in self:
            partner.ecrm_vat_key = vat_key(partner.vat) or False

    @api.depends_context("company")
    def _compute_ecrm_currency_id(self):
        self.ecrm_currency_id = self.env.company.currency_id

    @api.model
    def _ecrm_360_figure_fields(self):
        """The names of the customer 360's figures: the fields ``_compute_ecrm_360`` computes."""
        return [name for name, field in self._fields.items() if field.compute == "_compute_ecrm_360"]

    def _ecrm_360_scope(self):
        """(commercial partners, {contact id: commercial id}) of self, in one query."""
        commercials = self.commercial_partner_id.filtered("id")
        contacts = self.with_context(active_test=False).search_fetch(
            [("commercial_partner_id", "in", commercials.ids)], ["commercial_partner_id"]
        )
        return commercials, {contact.id: contact.commercial_partner_id.id for contact in contacts}

    def _compute_ecrm_360(self):
        """Every figure of the customer 360 with one grouped read per source
        (orders, deliveries, invoices, interactions) for the whole recordset:
        the cost does not grow with the customers' history."""
        company = self.env.company
        commercials, commercial_of = self._ecrm_360_scope()
        figures = {
            cid: dict.fromkeys(("sales", "sale_count", "open", "deliveries", "unpaid", "unpaid_count", "logs"), 0)
            for cid in commercials.ids
        }
        last_log = {}
        if commercials:
            companies = self.env.companies.ids
            today = fields.Date.context_today(self)
            # sudo: e-CRM users see the customer's totals, not the documents
            # (each smart button opens them under the user's own rights);
            # limited to the companies the user works in.
            env = self.sudo().env
            for partner, currency, invoice_status, delivery_status, untaxed, count in env["sale.order"]._read_group(
                [("partner_id", "in", list(commercial_of)), ("state", "=", "sale"), ("company_id", "in", companies)],
                ["partner_id", "currency_id", "invoice_status", "delivery_status"],
                ["amount_untaxed:sum", "__count"],
            ):
                row = figures[commercial_of[partner.id]]
                row["sales"] += currency._convert(untaxed, company.currency_id, company, today)
                row["sale_count"] += count
                if invoice_status == "to invoice" or delivery_status in OPEN_DELIVERY_STATUSES:
                    row["open"] += count
            for partner, count in env["stock.picking"]._read_group(
                [
                    ("partner_id", "in", list(commercial_of)),
                    ("picking_type_code", "=", "outgoing"),
                    ("state", "in", PENDING_PICKING_STATES),
                    ("company_id", "in", companies),
                ],
                ["partner_id"],
                ["__count"],
            ):
                figures[commercial_of[partner.id]]["deliveries"] += count
            for commercial, currency, residual, count in env["account.move"]._read_group(
                [
                    ("commercial_partner_id", "in", commercials.ids),
                    ("state", "=", "posted"),
                    ("move_type", "in", ("out_invoice", "out_refund")),
                    ("payment_state", "in", ("not_paid", "partial")),
                    ("company_id", "in", companies),
                ],
                ["commercial_partner_id", "company_currency_id"],
                ["amount_residual_signed:sum", "__count"],
            ):
                row = figures[commercial.id]
                row["unpaid"] += currency._convert(residual, company.currency_id, company, today)
                row["unpaid_count"] += count
            for commercial, count, last in env["ecrm.interaction"]._read_group(
                [("commercial_partner_id", "in", commercials.ids), ("company_id", "in", companies)],
                ["commercial_partner_id"],
                ["__count", "date:max"],
            ):
                figures[commercial.id]["logs"] = count
                last_log[commercial.id] = last
        empty = dict.fromkeys(("sales", "sale_count", "open", "deliveries", "unpaid", "unpaid_count", "logs"), 0)
        for partner in self:
            row = figures.get(partner.commercial_partner_id.id, empty)
            partner.ecrm_lifetime_sales = row["sales"]
            partner.ecrm_sale_count = row["sale_count"]
            partner.ecrm_open_order_count = row["open"]
            partner.ecrm_pending_delivery_count = row["deliveries"]
            partner.ecrm_unpaid_amount = row["unpaid"]
            partner.ecrm_unpaid_invoice_count = row["unpaid_count"]
            partner.ecrm_interaction_count = row["logs"]
            partner.ecrm_last_interaction_date = last_log.get(partner.commercial_partner_id.id, False)

    def _compute_ecrm_timeline(self):
        """The last TIMELINE_SIZE touches of each commercial partner, in one
        query (a window over the per-customer, per-date index), under the
        user's access rules."""
        commercials = self.commercial_partner_id.filtered("id")
        timeline = {}
        if commercials:
            Interaction = self.env["ecrm.interaction"]
            Interaction.flush_model(["commercial_partner_id", "date"])
            query = Interaction._search([("commercial_partner_id", "in", commercials.ids)])
            table = query.table
            ranked = query.select(
                SQL.identifier(table, "id"),
                SQL("%s AS commercial_id", SQL.identifier(table, "commercial_partner_id")),
                SQL(
                    "row_number() OVER (PARTITION BY %s ORDER BY %s DESC, %s DESC) AS position",
                    SQL.identifier(table, "commercial_partner_id"),
                    SQL.identifier(table, "date"),
                    SQL.identifier(table, "id"),
                ),
            )
            rows = self.env.execute_query(
                SQL(
                    "SELECT id, commercial_id FROM (%s) ranked WHERE position <= %s ORDER BY commercial_id, position",
                    ranked,
                    TIMELINE_SIZE,
                )
            )
            for interaction_id, commercial_id in rows:
                timeline.setdefault(commercial_id, []).append(interaction_id)
        for partner in self:
            partner.ecrm_timeline_ids = [fields.Command.set(timeline.get(partner.commercial_partner_id.id, []))]

    def _compute_ecrm_consent(self):
        """Mailing lists each partner's email address left, in two queries."""
        emails = {email for email in self.mapped("email_normalized") if email}
        optouts = {}
        if emails:
            # sudo: the count of lists left is shown, not the lists or their contacts
            groups = (
                self.env["mailing.subscription"]
                .sudo()
                ._read_group(
                    [("contact_id.email_normalized", "in", list(emails)), ("opt_out", "=", True)],
                    ["contact_id"],
                    ["__count"],
                )
            )
            for contact, count in groups:
                email = contact.email_normalized
                optouts[email] = optouts.get(email, 0) + count
        for partner in self:
            partner.ecrm_mailing_optout_count = optouts.get(partner.email_normalized, 0)

    @api.model
    def _ecrm_identity_keys(self, email=None, phone=None, vat=None, country=None):
        """Normalise loose identifiers into the keys stored on partners:
        ``{'ecrm_email_key': ..., ...}`` with only the keys that could be computed."""
        region = (country or self.env.company.country_id).code if not isinstance(country, str) else country
        keys = {
            "ecrm_email_key": tools.email_normalize(email, strict=True) if email else False,
            "ecrm_phone_key": phone_key(phone, region) if phone else None,
            "ecrm_vat_key": vat_key(vat) if vat else None,
        }
        return {fname: key for fname, key in keys.items() if key}

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

    @api.model
    def name_create(self, name):
        """Import of any model with a partner column ("Create if not found"):
        a value carrying an email lands on the partner with that email key
        instead of creating a second one. Other callers keep Odoo's behaviour."""
        context = self.env.context
        if name and (context.get("import_file") or context.get("name_create_enabled_fields")):
            _name, normalized = tools.parse_contact_from_email(name)
            if normalized:
                found = self._ecrm_match_candidates(email=normalized)[:1]
                if found:
                    return found.id, found.display_name
        return super().name_create(name)

    @api.model
    def load(self, fields, data):
        """Import (Odoo's import dialog, ``load`` over RPC): a row without an id
        or external id whose email, phone or tax ID is an existing customer's
        lands on that customer (see ``_load_records``), and the result's
        messages say which rows did."""
        if self.env.context.get("ecrm_import_matches") is not None or self.env.context.get("module"):
            # nested, or a module's data file: records as written
            return super().load(fields, data)
        matches = EcrmImportMatches()
        result = super(ResPartner, self.with_context(ecrm_import_matches=matches)).load(fields, data)
        if result.get("ids") and matches.rows:
            result["messages"].append(self._ecrm_import_message(matches.rows))
        return result

    def _load_records(self, data_list, update=False, ignore_duplicates=False):
        matches = self.env.context.get("ecrm_import_matches")
        found = self._ecrm_import_match(data_list) if matches is not None and not update else {}
        if not found:
            return super()._load_records(data_list, update=update, ignore_duplicates=ignore_duplicates)
        # new dicts: when the batch fails, load() retries row by row with the originals
        data_list = [dict(data) for data in data_list]
        taken = {}
        for index, (partner, _keys, conflicts) in found.items():
            data = data_list[index]
            # an identifier of the row that is another customer's is not copied
            # onto this one: that would tie the two customers together
            skip = {value_field for fname in conflicts for value_field in IDENTITY_VALUE_FIELDS[fname]}
            fill = partner._ecrm_import_fill(data["values"], taken.setdefault(partner.id, set()) | skip)
            taken[partner.id].update(fill)
            data["ecrm_row"] = data["values"].get("name") or data["values"].get("email") or ""
            data["values"] = dict(fill, id=partner.id)
            data["ecrm_filled"] = fill
        records = super()._load_records(data_list, update=update, ignore_duplicates=ignore_duplicates)
        rows = [(data_list[index], partner, keys) for index, (partner, keys, _conflicts) in found.items()]
        matches.rows.extend(rows)
        self._ecrm_import_log(rows)
        return records

    def _ecrm_import_match(self, data_list):
        """{index in data_list: (partner, key fields it matched, key fields that
        matched other partners only)} for the rows to create (no id, no external
        id) whose email, phone or tax ID is the key of an existing partner of the
        row's company or shared: the one carrying most of the row's keys, then the
        best ranked (as ``_ecrm_match_candidates``). One search for the batch."""
        rows = {}
        countries = {}
        for index, data in enumerate(data_list):
            values = data["values"]
            if not data.get("xml_id") and not values.get("id"):
                keys = self._ecrm_import_keys(values, countries)
                if keys:
                    rows[index] = keys
        by_key = self._ecrm_import_candidates(rows.values())
        found = {}
        for index, keys in rows.items():
            values = data_list[index]["values"]
            company_id = values.get("company_id")
            # contacts of one company share its switchboard and its tax ID: a new
            # contact of that company is found by its email only
            parent = self.browse(values["parent_id"]) if isinstance(values.get("parent_id"), int) else self.browse()
            own_customer = parent.commercial_partner_id
            matched = {}
            for fname, key in keys.items():
                for rank, partner in by_key.get((fname, key), ()):
                    other_company = company_id and partner.company_id.id not in (False, company_id)
                    shared_key = fname != "ecrm_email_key" and partner.commercial_partner_id == own_customer
                    if not other_company and not shared_key:
                        matched.setdefault((rank, partner), []).append(fname)
            if matched:
                # the partner carrying most of the row's keys, then the best ranked
                best = min(matched, key=lambda ranked: (-len(matched[ranked]), ranked[0]))
                conflicts = {fname for fnames in matched.values() for fname in fnames} - set(matched[best])
                found[index] = (best[1], matched[best], conflicts)
        return found

    @api.model
    def _ecrm_import_candidates(self, row_keys):
        """{(key field, key): [(rank, partner)]} of the existing partners carrying
        one of the keys of ``row_keys``, ranked as ``_ecrm_ranked`` does."""
        row_keys = list(row_keys)
        domains = [
            [(fname, "in", list({keys[fname] for keys in row_keys if fname in keys}))]
            for fname in IDENTITY_KEY_FIELDS
            if any(fname in keys for keys in row_keys)
        ]
        if not domains:
            return {}
        candidates = self.search_fetch(
            expression.OR(domains), ["commercial_partner_id", "write_date", "company_id", *IDENTITY_KEY_FIELDS]
        )
        commercials = candidates.commercial_partner_id
        ranked = candidates._ecrm_ranked(commercials._ecrm_last_activity() if len(commercials) > 1 else {})
        by_key = {}
        for rank, partner in enumerate(ranked):
            for fname in IDENTITY_KEY_FIELDS:
                if partner[fname]:
                    by_key.setdefault((fname, partner[fname]), []).append((rank, partner))
        return by_key

    @api.model
    def _ecrm_import_keys(self, values, countries):
        """The identity keys of an imported row, computed as they would be on
        the partner it creates (phone read in the row's country, else its
        parent's, else its company's, else the current company's)."""
        country = values.get("country_id")
        if not country and isinstance(values.get("parent_id"), int):
            country = self.browse(values["parent_id"]).country_id.id
        if not country and isinstance(values.get("company_id"), int):
            country = self.env["res.company"].browse(values["company_id"]).country_id.id
        if country not in countries:
            countries[country] = (
                self.env["res.country"].browse(country).code if country else self.env.company.country_id.code
            )
        region = countries[country]
        email = values.get("email")
        keys = {
            "ecrm_email_key": tools.email_normalize(email, strict=True) if isinstance(email, str) else None,
            "ecrm_phone_key": phone_key(values.get("phone"), region) or phone_key(values.get("mobile"), region),
            "ecrm_vat_key": vat_key(values.get("vat")),
        }
        return {fname: key for fname, key in keys.items() if key}

    def _ecrm_import_fill(self, values, taken=()):
        """The imported ``values`` that go into this existing partner: only
        fields it leaves empty (typed data is never overwritten), never a
        field an earlier row of the import already filled. Tags and contacts
        are added, never removed; booleans, the company and the parent company
        stay as they are (changing them would change who sees or owns the
        customer)."""
        self.ensure_one()
        fill = {}
        for fname, value in values.items():
            field = self._fields.get(fname)
            if (
                field
                and fname not in taken
                and fname not in IMPORT_KEEP_FIELDS
                and field.type not in ("boolean", "properties", "properties_definition")
            ):
                fill_value = self._ecrm_import_fill_value(field, value)
                if fill_value:
                    fill[fname] = fill_value
        return fill

    def _ecrm_import_fill_value(self, field, value):
        """What an imported ``value`` puts into ``field`` of this partner; None for nothing."""
        current = self[field.name]
        if field.type == "many2many":
            if not current:
                return value
            ids = [i for command in value if command[0] == Command.SET for i in command[2]]
            ids += [command[1] for command in value if command[0] == Command.LINK]
            return [Command.link(i) for i in dict.fromkeys(ids) if i not in current.ids] or None
        if field.type == "one2many":
            return [command for command in value if command[0] in (Command.CREATE, Command.LINK)] or None
        if field.type == "html":
            return value if tools.is_html_empty(current) and not tools.is_html_empty(value) else None
        return value if not current and value not in (None, False, "") else None

    def _ecrm_import_log(self, rows):
        """A note on each partner an import landed on: who, when, which fields it filled."""
        bodies = {}
        for data, partner, _keys in rows:
            filled = data.get("ecrm_filled") or {}
            labels = ", ".join(self._fields[fname]._description_string(self.env) for fname in filled)
            user = self.env.user.name
            line = (
                self.env._("Matched by an import of contacts (%(user)s): filled %(fields)s.", user=user, fields=labels)
                if labels
                else self.env._("Matched by an import of contacts (%(user)s): nothing to fill.", user=user)
            )
            bodies.setdefault(partner.id, []).append(line)
        if bodies:
            partners = self.browse(list(bodies))
            # the importing user may write these partners (checked by the write above)
            partners._message_log_batch(bodies={pid: Markup("<br/>").join(lines) for pid, lines in bodies.items()})

    @api.model
    def _ecrm_import_message(self, rows):
        """The import message listing the rows that landed on existing customers."""
        labels = {
            "ecrm_email_key": self.env._("email"),
            "ecrm_phone_key": self.env._("phone"),
            "ecrm_vat_key": self.env._("tax ID"),
        }
        lines = [
            self.env._(
                "%(row)s → %(partner)s (#%(id)s, same %(keys)s)",
                row=data["ecrm_row"] or partner.display_name,
                partner=partner.display_name,
                id=partner.id,
                keys=", ".join(labels[fname] for fname in keys),
            )
            for data, partner, keys in rows[:IMPORT_MESSAGE_ROWS]
        ]
        if len(rows) > IMPORT_MESSAGE_ROWS:
            lines.append(self.env._("and %(count)s more", count=len(rows) - IMPORT_MESSAGE_ROWS))
        return {
            "type": "info",
            "ecrm_match": True,
            "message": self.env._(
                "Rows matched to existing customers by email, phone or tax ID: %(count)s. They were not "
                "created; they fill the customer's empty fields and overwrite nothing typed. %(rows)s.",
                count=len(rows),
                rows="; ".join(lines),
            ),
        }

    def _ecrm_360_action(self, xmlid, domain, context=None):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(xmlid)
        action["domain"] = domain
        action["context"] = context or {}
        return action

    def action_ecrm_orders(self):
        commercial = self.commercial_partner_id
        return self._ecrm_360_action(
            "sale.action_orders",
            [("partner_id", "child_of", commercial.ids), ("state", "=", "sale")],
            {"default_partner_id": self.id},
        )

    def action_ecrm_open_orders(self):
        commercial = self.commercial_partner_id
        return self._ecrm_360_action(
            "sale.action_orders",
            [
                ("partner_id", "child_of", commercial.ids),
                ("state", "=", "sale"),
                "|",
                ("invoice_status", "=", "to invoice"),
                ("delivery_status", "in", OPEN_DELIVERY_STATUSES),
            ],
        )

    def action_ecrm_pending_deliveries(self):
        commercial = self.commercial_partner_id
        return self._ecrm_360_action(
            "stock.action_picking_tree_all",
            [
                ("partner_id", "child_of", commercial.ids),
                ("picking_type_code", "=", "outgoing"),
                ("state", "in", PENDING_PICKING_STATES),
            ],
        )

    def action_ecrm_unpaid_invoices(self):
        return self._ecrm_360_action(
            "account.action_move_out_invoice_type",
            [
                ("commercial_partner_id", "=", self.commercial_partner_id.id),
                ("state", "=", "posted"),
                ("move_type", "in", ("out_invoice", "out_refund")),
                ("payment_state", "in", ("not_paid", "partial")),
            ],
            {"default_move_type": "out_invoice"},
        )

    def action_ecrm_interactions(self):
        return self._ecrm_360_action(
            "ecrm_addon.ecrm_interaction_action",
            [("commercial_partner_id", "=", self.commercial_partner_id.id)],
            {"default_partner_id": self.id},
        )

    # --- Portal consent ------------------------------------------------------
    # Opting out is one click. Opting an email back in needs the signed link
    # sent to that address, and the portal shows the blacklist state of an
    # address only once its owner followed such a link: whoever types someone
    # else's address in /my/account learns nothing and changes nothing but an
    # opt-out. Numbers cannot be proven from the portal: the shop opts them back in.

    ecrm_consent_proven_email = fields.Char(
        string="Consent Proven Email",
        copy=False,
        groups="base.group_system",
        help="The address whose owner last followed a consent confirmation link: the portal shows "
        "whether the partner's email is blacklisted only while it is this address.",
    )
    ecrm_consent_request_date = fields.Datetime(
        string="Consent Link Sent On",
        copy=False,
        groups="base.group_system",
        help="When the portal last sent a consent confirmation link for this partner.",
    )

    def _ecrm_consent_numbers(self):
        """The partner's phone and mobile in E.164, as the phone blacklist holds them."""
        self.ensure_one()
        numbers = (self._phone_format(fname=fname) for fname in ("phone", "mobile") if self[fname])
        return list(dict.fromkeys(number for number in numbers if number))

    def _ecrm_consent_email_proven(self):
        """Whether the partner's current email is the address its owner proved."""
        self.ensure_one()
        # sudo: the proof is out of the users' reach, only compared here
        partner = self.sudo()
        return bool(partner.email_normalized) and partner.ecrm_consent_proven_email == partner.email_normalized

    def _ecrm_consent_state(self):
        """{'email', 'email_proven', 'email_ok', 'phones'} of the partner, for the
        portal. ``email_ok`` is None unless the address is proven; the state of
        the numbers is never given (they cannot be proven from the portal)."""
        self.ensure_one()
        # sudo: the customer reads their own address, numbers and proven
        # address's blacklist entry, nobody else's
        partner = self.sudo()
        proven = partner._ecrm_consent_email_proven()
        return {
            "email": partner.email_normalized,
            "email_proven": proven,
            "email_ok": not partner.is_blacklisted if proven else None,
            "phones": partner._ecrm_consent_numbers(),
        }

    def _ecrm_set_consent(self, email_ok=None, phone_ok=None):
        """Self-service consent of the user's own partner (``None`` leaves a
        channel as it is). Opting out is immediate; opting the email back in
        only sends the confirmation link to the address; opting the numbers
        back in is refused (``UserError``), nothing is changed then. Returns
        False when the link was not sent because one was sent a few minutes
        ago, else None."""
        self.ensure_one()
        if self != self.env.user.partner_id:
            raise AccessError(self.env._("You can only change your own contact preferences."))
        if phone_ok:
            raise UserError(self._ecrm_consent_phone_opt_in_message())
        message = self.env._("Changed by the customer on the portal")
        # sudo: the blacklists are the shop's; the check above limits the
        # change to the user's own address and numbers
        email = self.sudo().email_normalized
        sent = None
        if email and email_ok:
            sent = self._ecrm_consent_send_confirmation()
        elif email and email_ok is not None:
            self.env["mail.blacklist"].sudo()._add(email, message=message)
        phones = self.sudo()._ecrm_consent_numbers()
        if phones and phone_ok is not None:
            self.env["phone.blacklist"].sudo()._add(phones, message=message)
        self.invalidate_recordset(["is_blacklisted", "phone_sanitized_blacklisted"])
        return sent

    def _ecrm_consent_phone_opt_in_message(self):
        """Why the portal does not opt numbers back in (the page and the refusal say it)."""
        return self.env._(
            "To receive SMS and calls again, please contact us: we need to check that the number is yours."
        )

    def _ecrm_consent_send_confirmation(self):
        """Queue the email asking the owner of the partner's address to confirm
        they want newsletters and offers again. Sent whatever the address's
        state, so the portal's answer is the same for every address; at most
        one every ``CONSENT_RESEND_MINUTES`` per partner (False when not sent)."""
        self.ensure_one()
        # sudo: the token's secret, the template and the mail queue are the shop's
        partner = self.sudo()
        now = fields.Datetime.now()
        last = partner.ecrm_consent_request_date
        if last and now - last < timedelta(minutes=CONSENT_RESEND_MINUTES):
            return False
        partner.ecrm_consent_request_date = now
        email = partner.email_normalized
        token = tools.hash_sign(
            partner.env, CONSENT_TOKEN_SCOPE, [partner.id, email], expiration_hours=CONSENT_LINK_HOURS
        )
        url = f"{partner.get_base_url()}/my/consent/confirm?{urlencode({'token': token})}"
        template = partner.env.ref("ecrm_addon.ecrm_consent_mail_template_confirm")
        template.with_context(ecrm_consent_url=url, ecrm_consent_days=CONSENT_LINK_HOURS // 24).send_mail(
            partner.id, email_values={"email_to": email}
        )
        return True

    @api.model
    def _ecrm_consent_check_token(self, token):
        """(partner, email) a confirmation link was sent for, or None when the
        token is forged, malformed, expired or its partner is gone."""
        try:
            # sudo: the signing secret is a system parameter
            values = tools.verify_hash_signed(self.sudo().env, CONSENT_TOKEN_SCOPE, token or "")
        except ValueError:  # not one of our tokens at all
            return None
        if not (isinstance(values, list) and len(values) == 2 and isinstance(values[0], int)):
            return None
        partner_id, email = values
        # sudo: the link's follower may be anyone; the token names the partner
        partner = self.sudo().browse(partner_id).exists()
        return (partner, email) if partner and email else None

    @api.model
    def _ecrm_consent_confirm(self, token):
        """Follow a confirmation link: its address leaves the email blacklist
        and counts as proven for its partner while it is still the partner's
        email. Returns the address, or None when the token is not valid."""
        checked = self._ecrm_consent_check_token(token)
        if not checked:
            return None
        partner, email = checked
        message = self.env._("Confirmed by the owner of the address through the link sent from the portal")
        # sudo: the token proves the follower owns the address
        self.env["mail.blacklist"].sudo()._remove(email, message=message)
        if partner.email_normalized == email:
            partner.ecrm_consent_proven_email = email
        partner.invalidate_recordset(["is_blacklisted"])
        return email

    # --- RFM -----------------------------------------------------------------
    # The figures live in the narrow ecrm.rfm.score table (one row per company
    # and commercial partner); the partner shows the current company's row.

    ecrm_recency_days = fields.Integer(
        string="Recency (days)",
        compute="_compute_ecrm_rfm",
        search="_search_ecrm_recency_days",
        groups="ecrm_addon.group_ecrm_user",
        help="Days since the last purchase in the RFM window (current company).",
    )
    ecrm_frequency = fields.Integer(
        string="Frequency",
        compute="_compute_ecrm_rfm",
        search="_search_ecrm_frequency",
        groups="ecrm_addon.group_ecrm_user",
        help="Purchases in the RFM window (current company).",
    )
    ecrm_monetary = fields.Monetary(
        string="Monetary Value",
        compute="_compute_ecrm_rfm",
        search="_search_ecrm_monetary",
        currency_field="ecrm_currency_id",
        groups="ecrm_addon.group_ecrm_user",
        help="Untaxed amount bought in the RFM window, refunds deducted, in the company currency.",
    )
    ecrm_r_score = fields.Integer(
        string="R Score",
        compute="_compute_ecrm_rfm",
        search="_search_ecrm_r_score",
        groups="ecrm_addon.group_ecrm_user",
        help="1 (oldest) to 5 (most recent); 0 = no purchase in the window.",
    )
    ecrm_f_score = fields.Integer(
        string="F Score",
        compute="_compute_ecrm_rfm",
        search="_search_ecrm_f_score",
        groups="ecrm_addon.group_ecrm_user",
        help="1 (fewest purchases) to 5 (most); 0 = no purchase in the window.",
    )
    ecrm_m_score = fields.Integer(
        string="M Score",
        compute="_compute_ecrm_rfm",
        search="_search_ecrm_m_score",
        groups="ecrm_addon.group_ecrm_user",
        help="1 (lowest value) to 5 (highest); 0 = no purchase in the window.",
    )
    ecrm_segment_id = fields.Many2one(
        "ecrm.rfm.segment",
        string="RFM Segment",
        compute="_compute_ecrm_rfm",
        search="_search_ecrm_segment_id",
        groups="ecrm_addon.group_ecrm_user",
    )

    ecrm_rfm_score_ids = fields.One2many(
        "ecrm.rfm.score", "partner_id", string="RFM Scores", groups="ecrm_addon.group_ecrm_user"
    )

    @api.depends_context("company")
    @api.depends("commercial_partner_id")
    def _compute_ecrm_rfm(self):
        commercial_ids = [pid for pid in set(self.commercial_partner_id._origin.ids) if pid]
        rows = {}
        if commercial_ids:
            scores = self.env["ecrm.rfm.score"].search_fetch(
                [("company_id", "=", self.env.company.id), ("partner_id", "in", commercial_ids)],
                ["partner_id", *RFM_SCORE_FIELDS.values()],
            )
            rows = {score.partner_id.id: score for score in scores}
        empty = self.env["ecrm.rfm.score"]
        for partner in self:
            score = rows.get(partner.commercial_partner_id._origin.id, empty)
            for partner_field, score_field in RFM_SCORE_FIELDS.items():
                partner[partner_field] = score[score_field]

    def _search_ecrm_rfm(self, partner_field, operator, value):
        """Partners whose commercial partner's score row (current company)
        matches; partners without a row count as 0 / no segment."""
        score_field = RFM_SCORE_FIELDS[partner_field]
        scores = self.env["ecrm.rfm.score"]
        company_domain = [("company_id", "=", self.env.company.id)]
        matching = scores._search(expression.AND([company_domain, [(score_field, operator, value)]]))
        domain = [("commercial_partner_id", "in", matching.subselect("partner_id"))]
        if ecrm_empty_matches(operator, value, False if partner_field == "ecrm_segment_id" else 0):
            scored = scores._search(company_domain)
            domain = expression.OR([domain, [("commercial_partner_id", "not in", scored.subselect("partner_id"))]])
        return domain

    def _search_ecrm_recency_days(self, operator, value):
        return self._search_ecrm_rfm("ecrm_recency_days", operator, value)

    def _search_ecrm_frequency(self, operator, value):
        return self._search_ecrm_rfm("ecrm_frequency", operator, value)

    def _search_ecrm_monetary(self, operator, value):
        return self._search_ecrm_rfm("ecrm_monetary", operator, value)

    def _search_ecrm_r_score(self, operator, value):
        return self._search_ecrm_rfm("ecrm_r_score", operator, value)

    def _search_ecrm_f_score(self, operator, value):
        return self._search_ecrm_rfm("ecrm_f_score", operator, value)

    def _search_ecrm_m_score(self, operator, value):
        return self._search_ecrm_rfm("ecrm_m_score", operator, value)

    def _search_ecrm_segment_id(self, operator, value):
        return self._search_ecrm_rfm("ecrm_segment_id", operator, value)

    @api.model
    def _ecrm_compute_rfm(self):
        """Recompute the RFM scores of every company (set-based, see ecrm.rfm.score)."""
        for company in self.env["res.company"].sudo().search([]):
            self._ecrm_compute_rfm_company(company)
        return True

    @api.model
    def _ecrm_compute_rfm_company(self, company, full=False):
        """Recompute one company's scores (``full``: aggregate the whole window
        even when the stored rows could be built on); False when another
        transaction is at it."""
        # sudo: the engine reads every invoice / order of the company and writes
        # the score table; callers are the cron and managers (checked upstream).
        return self.env["ecrm.rfm.score"].sudo()._rfm_refresh_company(company.sudo(), full=full)

    @api.model
    def _cron_ecrm_compute_rfm(self):
        """Daily refresh, one company per slice, committed between slices outside
        tests. A company another worker is refreshing is skipped (advisory lock).
        Whoever asked for it from the UI is told when it is done; a run somebody
        asked for aggregates the whole window again ("Recompute now")."""
        requests = self.env["ecrm.job.request"]._ecrm_start("rfm")
        companies = self.env["res.company"].sudo().search([])
        cron = self.env["ir.cron"]
        cron._notify_progress(done=0, remaining=len(companies))
        if not modules.module.current_test:
            self.env.cr.commit()  # pylint: disable=invalid-commit
        for done, company in enumerate(companies, start=1):
            self._ecrm_compute_rfm_company(company, full=bool(requests))
            cron._notify_progress(done=done, remaining=len(companies) - done)
            if not modules.module.current_test:
                self.env.cr.commit()  # pylint: disable=invalid-commit
        requests._ecrm_done(
            "rfm",
            lambda env: env._("The RFM scores are up to date."),
        )
        return True

    @api.model
    def action_ecrm_compute_rfm(self):
        """ "Recompute now": wakes the daily cron up so that the browser does not wait;
        the requester is notified when it is done."""
        if not self.env.user.has_group("ecrm_addon.group_ecrm_manager"):
            raise AccessError(self.env._("Only e-CRM managers can recompute the RFM scores."))
        return self.env["ecrm.job.request"]._ecrm_request("rfm")

    # --- Contact pressure ----------------------------------------------------

    ecrm_pressure = fields.Float(
        string="Contact Pressure",
        compute="_compute_ecrm_pressure",
        search="_search_ecrm_pressure",
        digits=(16, 2),
        groups="ecrm_addon.group_ecrm_user",
        help="Weight of every outbound touch of the current company, halved every half-life (Settings).",
    )
    ecrm_pressure_email_blocked_until = fields.Datetime(
        string="Marketing Emails Blocked Until",
        compute="_compute_ecrm_pressure_blocked",
        groups="ecrm_addon.group_ecrm_user",
    )
    ecrm_pressure_email_rule_id = fields.Many2one(
        "ecrm.pressure.rule",
        string="Email Blocked By",
        compute="_compute_ecrm_pressure_blocked",
        groups="ecrm_addon.group_ecrm_user",
    )
    ecrm_pressure_sms_blocked_until = fields.Datetime(
        string="Marketing SMS Blocked Until",
        compute="_compute_ecrm_pressure_blocked",
        groups="ecrm_addon.group_ecrm_user",
    )
    ecrm_pressure_sms_rule_id = fields.Many2one(
        "ecrm.pressure.rule",
        string="SMS Blocked By",
        compute="_compute_ecrm_pressure_blocked",
        groups="ecrm_addon.group_ecrm_user",
    )

    @api.model
    def _ecrm_pressure_sql(self, company, partner_ids=None, now=None):
        """Weighted pressure per commercial partner: rows (partner_id, pressure).

        ``sum(weight * 0.5 ^ (age_days / half_life))`` over the company's
        outbound touches (future-dated ones count at full weight); touches older
        than ten half-lives weigh less than 0.1% and are left out. All partners
        with a touch when ``partner_ids`` is None.
        """
        half_life = company.ecrm_pressure_half_life_days or 30
        where = (
            SQL("TRUE") if partner_ids is None else SQL("i.commercial_partner_id = ANY(%s::int[])", list(partner_ids))
        )
        return SQL(
            """
            SELECT i.commercial_partner_id AS partner_id,
                   SUM(i.weight * power(0.5, GREATEST(EXTRACT(EPOCH FROM (%(now)s - i.date)), 0)
                                            / 86400.0 / %(half_life)s)) AS pressure
              FROM ecrm_interaction i
             WHERE i.direction = 'outbound'
               AND i.company_id = %(company)s
               AND i.date > %(now)s - make_interval(days => %(horizon)s)
               AND %(where)s
             GROUP BY i.commercial_partner_id
            """,
            now=now or fields.Datetime.now(),
            half_life=float(half_life),
            company=company.id,
            horizon=half_life * PRESSURE_HORIZON_HALF_LIVES,
            where=where,
        )

    def _compute_ecrm_pressure(self):
        self.env["ecrm.interaction"].flush_model()
        commercial_ids = set(self.commercial_partner_id.ids)
        pressure = {}
        if commercial_ids:
            self.env.cr.execute(self._ecrm_pressure_sql(self.env.company, commercial_ids))
            pressure = dict(self.env.cr.fetchall())
        for partner in self:
            partner.ecrm_pressure = pressure.get(partner.commercial_partner_id.id, 0.0)

    def _search_ecrm_pressure(self, operator, value):
        if operator not in ("<", "<=", ">", ">=", "=", "!="):
            raise UserError(self.env._("Unsupported search on the contact pressure: %(operator)s", operator=operator))
        self.env["ecrm.interaction"].flush_model()
        query = SQL(
            "SELECT partner_id FROM (%s) pressure WHERE pressure.pressure %s %s",
            self._ecrm_pressure_sql(self.env.company),
            SQL(operator),
            float(value or 0.0),
        )
        self.env.cr.execute(query)
        commercial_ids = [row[0] for row in self.env.cr.fetchall()]
        domain = [("commercial_partner_id", "in", commercial_ids)]
        # Customers without any touch have a pressure of 0.
        zero_matches = {
            "<": value > 0,
            "<=": value >= 0,
            ">": value < 0,
            ">=": value <= 0,
            "=": not value,
            "!=": bool(value),
        }[operator]
        if zero_matches:
            self.env.cr.execute(SQL("SELECT partner_id FROM (%s) pressure", self._ecrm_pressure_sql(self.env.company)))
            touched = [row[0] for row in self.env.cr.fetchall()]
            domain = ["|", *domain, ("commercial_partner_id", "not in", touched)]
        return domain

    def _compute_ecrm_pressure_blocked(self):
        commercial_ids = list(set(self.commercial_partner_id.ids))
        Rule = self.env["ecrm.pressure.rule"]
        verdicts = {
            channel: Rule._ecrm_check(self.env.company, channel, "marketing", partner_ids=commercial_ids)
            for channel in ("email", "sms")
        }
        for partner in self:
            for channel in ("email", "sms"):
                verdict = verdicts[channel].get(partner.commercial_partner_id.id)
                partner[f"ecrm_pressure_{channel}_blocked_until"] = verdict.blocked_until if verdict else False
                partner[f"ecrm_pressure_{channel}_rule_id"] = verdict.rule_id if verdict else False
