# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Customer 360: the figures of a customer across its contacts, its timeline and the smart buttons."""

from odoo import api, fields, models
from odoo.tools import SQL

from .stock_picking import PENDING_DELIVERY_DOMAIN

# Channels a customer may prefer to be reached on (a subset of the interaction channels).
PREFERRED_CHANNELS = [
    ("email", "Email"),
    ("sms", "SMS"),
    ("phone", "Phone"),
    ("letter", "Letter"),
    ("portal", "Portal"),
]
ECRM_USER = "ecrm_addon.group_ecrm_user"
# Orders still moving
OPEN_DELIVERY_STATUSES = ("pending", "started", "partial")
# How many touches the customer 360 timeline shows; the full log is one click away.
TIMELINE_SIZE = 20


class ResPartner(models.Model):
    _inherit = "res.partner"

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
            domains = self._ecrm_360_domains()
            today = fields.Date.context_today(self)
            # sudo: e-CRM users see the customer's totals, not the documents
            # (each smart button opens them under the user's own rights);
            # limited to the companies the user works in.
            env = self.sudo().env
            for partner, currency, invoice_status, delivery_status, untaxed, count in env["sale.order"]._read_group(
                [("partner_id", "in", list(commercial_of)), *domains["orders"], ("company_id", "in", companies)],
                ["partner_id", "currency_id", "invoice_status", "delivery_status"],
                ["amount_untaxed:sum", "__count"],
            ):
                row = figures[commercial_of[partner.id]]
                row["sales"] += currency._convert(untaxed, company.currency_id, company, today)
                row["sale_count"] += count
                # domains["open_orders"], read from the groups
                if invoice_status == "to invoice" or delivery_status in OPEN_DELIVERY_STATUSES:
                    row["open"] += count
            for partner, count in env["stock.picking"]._read_group(
                [("partner_id", "in", list(commercial_of)), *domains["deliveries"], ("company_id", "in", companies)],
                ["partner_id"],
                ["__count"],
            ):
                figures[commercial_of[partner.id]]["deliveries"] += count
            for commercial, currency, residual, count in env["account.move"]._read_group(
                [("commercial_partner_id", "in", commercials.ids), *domains["unpaid"], ("company_id", "in", companies)],
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

    @api.model
    def _ecrm_360_domains(self):
        """{figure: domain} of the documents behind the customer 360's figures,
        without the customer: the compute and the smart buttons both use them."""
        return {
            "orders": [("state", "=", "sale")],
            "open_orders": [
                ("state", "=", "sale"),
                "|",
                ("invoice_status", "=", "to invoice"),
                ("delivery_status", "in", OPEN_DELIVERY_STATUSES),
            ],
            "deliveries": PENDING_DELIVERY_DOMAIN,
            "unpaid": [
                ("state", "=", "posted"),
                ("move_type", "in", ("out_invoice", "out_refund")),
                ("payment_state", "in", ("not_paid", "partial")),
            ],
        }

    def _ecrm_360_action(self, xmlid, domain, context=None):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(xmlid)
        action["domain"] = domain
        action["context"] = context or {}
        return action

    @api.readonly
    def action_ecrm_orders(self):
        return self._ecrm_360_action(
            "sale.action_orders",
            [("partner_id", "child_of", self.commercial_partner_id.ids), *self._ecrm_360_domains()["orders"]],
            {"default_partner_id": self.id},
        )

    @api.readonly
    def action_ecrm_open_orders(self):
        return self._ecrm_360_action(
            "sale.action_orders",
            [("partner_id", "child_of", self.commercial_partner_id.ids), *self._ecrm_360_domains()["open_orders"]],
        )

    @api.readonly
    def action_ecrm_pending_deliveries(self):
        return self._ecrm_360_action(
            "stock.action_picking_tree_all",
            [("partner_id", "child_of", self.commercial_partner_id.ids), *self._ecrm_360_domains()["deliveries"]],
        )

    @api.readonly
    def action_ecrm_unpaid_invoices(self):
        return self._ecrm_360_action(
            "account.action_move_out_invoice_type",
            [("commercial_partner_id", "=", self.commercial_partner_id.id), *self._ecrm_360_domains()["unpaid"]],
            {"default_move_type": "out_invoice"},
        )

    @api.readonly
    def action_ecrm_interactions(self):
        return self._ecrm_360_action(
            "ecrm_addon.ecrm_interaction_action",
            [("commercial_partner_id", "=", self.commercial_partner_id.id)],
            {"default_partner_id": self.id},
        )
