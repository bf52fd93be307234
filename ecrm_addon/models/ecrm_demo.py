# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The demo shop: called from demo/ecrm_demo.xml at install only.

Everything is generated with a seeded random generator (the same shop on every
install) and dated relative to the moment of installation, so that the demo
never ages: orders of the last two years, cases overdue, at risk and on time
*today*, a mailing sent yesterday whose pressure report shows blocked and
deferred recipients. The engines of the addon do the work (RFM, customer value,
escalation, late deliveries, contact pressure, duplicate scan, merge); only the
dates of documents are moved back after the fact, as a shop's history would
have dated them.
"""

import logging
import random
import time
import unicodedata
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

DEMO_SEED = 20261123

FIRST_NAMES = (
    "Alba Alberto Alicia Andrés Ángela Antonio Beatriz Blanca Bruno Clara Cristina Diego Eduardo Elena Enrique "
    "Eva Fernando Gloria Gonzalo Inés Iván Jaime Julia Lorenzo Lucas Luis Manuela Mario Marina Miguel Natalia "
    "Nerea Olga Pedro Pilar Rafael Ramón Rocío Silvia Tomás Valeria Víctor Ximena Yolanda"
).split()
LAST_NAMES = (
    "Aguilar Alonso Arias Benítez Bravo Caballero Calvo Campos Cano Carmona Castillo Cortés Crespo Delgado "
    "Esteban Flores Fuentes Gallego Garrido Guerrero Herrera Hidalgo Iglesias Jiménez León Lorenzo Lozano "
    "Marín Márquez Medina Méndez Molina Montero Mora Morales Muñoz Nieto Núñez Ortiz Pascual Peña Pérez "
    "Rubio Sáez Santana Santos Soto Suárez Vargas Vega"
).split()
# (city, zip, area code of its landlines)
CITIES = (
    ("Madrid", "28013", "91"),
    ("Barcelona", "08002", "93"),
    ("Valencia", "46002", "96"),
    ("Sevilla", "41004", "95"),
    ("Zaragoza", "50001", "976"),
    ("Málaga", "29015", "952"),
    ("Murcia", "30004", "968"),
    ("Palma", "07001", "971"),
    ("Bilbao", "48001", "94"),
    ("Alicante", "03002", "96"),
    ("Córdoba", "14003", "957"),
    ("Valladolid", "47001", "983"),
    ("Vigo", "36202", "986"),
    ("Gijón", "33201", "985"),
    ("Granada", "18009", "958"),
    ("Santander", "39001", "942"),
    ("Salamanca", "37002", "923"),
    ("Toledo", "45001", "925"),
)
STREETS = (
    "Calle Mayor",
    "Calle del Sol",
    "Avenida de la Constitución",
    "Calle Real",
    "Paseo de la Castellana",
    "Calle San Vicente",
    "Gran Vía",
    "Calle Nueva",
    "Avenida de América",
    "Plaza de España",
    "Calle de Alcalá",
    "Rambla de Catalunya",
)
EMAIL_DOMAINS = ("example.es", "example.com", "example.net", "example.org")

# The shop's customer profiles: (name, customers, days since the last order
# (min, max), orders in that last order's year (min, max), orders of the year
# before (max), days the orders spread over before the last one, units per
# line (max)). Steady buyers spread over two years, lapsed ones bought in a
# burst and stopped: every RFM segment holds several customers and the
# customer-value models have buyers who stay and buyers who leave to learn from.
PROFILES = (
    ("champion", 14, (1, 20), (5, 6), 6, 725, 4),
    ("new", 12, (1, 14), (1, 1), 0, 0, 2),
    ("potential", 12, (8, 45), (2, 2), 0, 60, 2),
    ("promising", 12, (40, 75), (1, 1), 0, 0, 2),
    ("loyal", 18, (15, 110), (3, 4), 4, 725, 2),
    ("need_attention", 12, (110, 160), (2, 2), 1, 725, 2),
    ("about_to_sleep", 12, (110, 160), (1, 1), 0, 0, 2),
    ("at_risk", 14, (190, 260), (3, 4), 0, 30, 2),
    ("cant_lose", 10, (190, 280), (5, 6), 0, 30, 4),
    ("hibernating", 12, (180, 260), (1, 2), 0, 30, 1),
    ("lost", 14, (290, 355), (1, 2), 1, 40, 1),
    ("gone", 14, (380, 650), (3, 4), 0, 30, 2),
)

# Touches a shop logs by hand or gets from channels without a document:
# (channel, direction, category, name).
LOGGED_TOUCHES = (
    ("phone", "inbound", "service", "Call: where is my order?"),
    ("phone", "outbound", "sales", "Call: follow-up on a quote"),
    ("meeting", "inbound", "sales", "Visit to the showroom"),
    ("letter", "outbound", "transactional", "Letter: warranty certificate"),
    ("web", "inbound", "sales", "Abandoned cart on the website"),
    ("chat", "inbound", "service", "Chat: size guide question"),
    ("social", "inbound", "service", "Instagram message about a return"),
    ("sms", "outbound", "transactional", "SMS: parcel out for delivery"),
    ("portal", "inbound", "service", "Downloaded an invoice on the portal"),
    ("other", "inbound", "service", "Talked to the shop at a fair"),
)

# Cases solved over the last weeks and rated by their customers (rate, comment).
RATED_CASE_SUBJECTS = (
    "Where is my order?",
    "Return label for the jacket",
    "Discount code not accepted",
    "Size chart of the trail shoes",
    "Invoice with my company name",
    "Parcel left at the wrong door",
    "Change of payment method",
    "Warranty of the sports watch",
)
RATINGS = (
    (5, "Muy rápidos, gracias."),
    (5, ""),
    (5, "Todo resuelto en un día."),
    (4, ""),
    (4, "Bien, aunque tardaron un poco."),
    (3, ""),
    (1, "Tuve que escribir tres veces."),
)
# The portal user's conversations (demo content, in the shop's words).
PORTAL_CONVERSATION = (
    "Could you send us a photo of the sole? We will replace them if needed.",
    "Here it is; it squeaks on wooden floors only.",
    "It holds 25 litres: a 15-inch laptop fits in its sleeve.",
)


def _ascii(text):
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower().replace(" ", "")


class EcrmDemo(models.AbstractModel):
    """Builds the demo shop's history: only called from demo/ecrm_demo.xml."""

    _name = "ecrm.demo"
    _description = "e-CRM demo data generator"

    # ------------------------------------------------------------------
    # Languages
    # ------------------------------------------------------------------

    @api.model
    def _activate_languages(self, codes=("es_ES",)):
        """Spanish next to English, as Settings > Languages > Add does: the
        language activated and the terms of every installed module loaded (the
        module being installed gets its own right after its data)."""
        for code in codes:
            self.env["res.lang"]._activate_lang(code)
        self.env["ir.module.module"].search([("state", "=", "installed")])._update_translations(list(codes))
        return True

    # ------------------------------------------------------------------
    # Customers
    # ------------------------------------------------------------------

    @api.model
    def _demo_records(self, model, prefix):
        data = self.env["ir.model.data"].sudo()
        ids = data.search(
            [("module", "=", "ecrm_addon"), ("model", "=", model), ("name", "=like", f"{prefix}%")]
        ).mapped("res_id")
        return self.env[model].browse(sorted(ids))

    @api.model
    def _generate_customers(self, rng):
        """The generated customers, by profile: Spanish names, addresses and
        phones, emails at example domains (unique, so that only the duplicates
        made on purpose are found)."""
        spain = self.env.ref("base.es")
        # sudo: only which addresses are taken, to give each customer its own
        partners = self.env["res.partner"].sudo().with_context(active_test=False)
        emails = {email.lower() for email in partners.search([("email", "!=", False)]).mapped("email")}
        total = sum(profile[1] for profile in PROFILES)
        mobiles = rng.sample(range(600_000_000, 699_999_999), total)
        vals_list, profiles = [], []
        for profile in PROFILES:
            for _n in range(profile[1]):
                first, last, last2 = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES), rng.choice(LAST_NAMES)
                city, zip_code, _area = rng.choice(CITIES)
                local = f"{_ascii(first)}.{_ascii(last)}"
                email = f"{local}@{rng.choice(EMAIL_DOMAINS)}"
                domain, suffix = email.split("@")[1], 2
                while email in emails:
                    email = f"{local}{suffix}@{domain}"
                    suffix += 1
                emails.add(email)
                mobile = str(mobiles[len(vals_list)])
                vals_list.append(
                    {
                        "name": f"{first} {last} {last2}",
                        "email": email,
                        "phone": f"+34 {mobile[:3]} {mobile[3:6]} {mobile[6:]}",
                        "street": f"{rng.choice(STREETS)}, {rng.randint(1, 120)}",
                        "zip": zip_code,
                        "city": city,
                        "country_id": spain.id,
                        "lang": "es_ES",
                        "customer_rank": 1,
                    }
                )
                profiles.append(profile)
        partners = self.env["res.partner"].create(vals_list)
        return list(zip(partners, profiles, strict=True))

    @api.model
    def _generate_duplicates(self, rng, customers):
        """Customers typed again on other channels: a few to review and one
        the shop already merged. Returns (duplicates, the merged one's original)."""
        picked = rng.sample(customers, 5)
        vals_list = []
        for partner in picked:
            vals_list.append(
                {
                    "name": partner.name.upper() if len(vals_list) % 2 else partner.name.split()[0] + " (web)",
                    "email": partner.email.upper() if len(vals_list) != 1 else False,
                    "phone": partner.phone.replace(" ", "").replace("+34", "0034 "),
                    "city": partner.city,
                    "country_id": partner.country_id.id,
                    "lang": partner.lang,
                    "customer_rank": 1,
                }
            )
        duplicates = self.env["res.partner"].create(vals_list)
        return duplicates, picked[-1]

    # ------------------------------------------------------------------
    # Orders, deliveries, invoices, refunds
    # ------------------------------------------------------------------

    # ------------------------------------------------------------------
    # Service desk: who new cases are routed to
    # ------------------------------------------------------------------

    @api.model
    def _generate_service_desk(self):
        """The current company's service desk, so that the demo's cases are
        routed as they are created: the demo's routing rule (a copy of it in
        another company), its round-robin team with the agent and the manager,
        who both work every day around the clock (the demo is installed at
        any hour). Cases of a category without a rule (questions) stay
        unassigned. Idempotent: each generator that creates cases calls it."""
        ref = self.env.ref
        company = self.env.company
        rule = ref("ecrm_addon.demo_routing_rule_returns", raise_if_not_found=False)
        staff = ref("ecrm_addon.demo_user_agent", raise_if_not_found=False) | ref(
            "ecrm_addon.demo_user_manager", raise_if_not_found=False
        )
        if not rule or not staff:
            return True
        team = rule.team_id
        team.write({"ecrm_assignment": "round_robin", "member_ids": [fields.Command.link(u.id) for u in staff]})
        Rule = self.env["ecrm.case.routing.rule"]
        if not Rule.search_count([("company_id", "=", company.id), ("team_id", "=", team.id)]):
            rule.copy({"company_id": company.id, "name": rule.name})
        # sudo: working hours are HR-style configuration
        Calendar = self.env["resource.calendar"].sudo()
        name = "Customer service, every day"
        calendar = Calendar.search([("name", "=", name), ("company_id", "=", company.id)], limit=1)
        if not calendar:
            calendar = Calendar.create(
                {
                    "name": name,
                    "company_id": company.id,
                    "tz": "Europe/Madrid",
                    "attendance_ids": [
                        fields.Command.create(
                            {"name": f"Day {day}", "dayofweek": str(day), "hour_from": 0.0, "hour_to": 24.0}
                        )
                        for day in range(7)
                    ],
                }
            )
        Resource = self.env["resource.resource"].sudo()
        resources = Resource.search([("user_id", "in", staff.ids), ("company_id", "=", company.id)])
        resources.calendar_id = calendar
        Resource.create(
            [
                {"name": user.name, "user_id": user.id, "company_id": company.id, "calendar_id": calendar.id}
                for user in staff - resources.user_id
            ]
        )
        return True

    @api.model
    def _generate_shop_history(self, seed=DEMO_SEED):
        """Two years of orders for the demo customers: confirmed, delivered and
        invoiced (older invoices paid), a few refunds, recent orders still open
        and one delivery late, so that every e-CRM figure has something to show;
        then the customers scored and their duplicates found, one group merged."""
        rng = random.Random(seed)
        started = time.monotonic()
        self._generate_service_desk()  # the late delivery's case is routed
        generated = self._generate_customers(rng)
        today = fields.Datetime.now().replace(hour=10, minute=0, second=0, microsecond=0)
        orders = self._generate_orders(rng, self._plan_orders(rng, generated), today)
        _logger.info("demo: %s orders confirmed in %.0f s", len(orders), time.monotonic() - started)
        # The latest orders are still to deliver and invoice.
        recent = orders.sorted("date_order", reverse=True)[:6]
        self._deliver_and_invoice(orders - recent, today)
        _logger.info("demo: delivered and invoiced at %.0f s", time.monotonic() - started)
        # The documents were back-dated after the fact: date their touches likewise.
        self._date_interactions(
            ("sale_order", "date_order"),
            ("account_move", "invoice_date::timestamp + interval '9 hours'"),
            ("stock_picking", "date_done"),
        )
        # A delivery promised three days ago and still not shipped: the
        # late-delivery engine opens its proactive case.
        late = recent.picking_ids.filtered(lambda p: p.state not in ("done", "cancel")).sorted("id")[:1]
        if late:
            late.scheduled_date = today - timedelta(days=3)
            self.env["ecrm.case"]._ecrm_open_late_delivery_cases(
                late, self.env.ref("ecrm_addon.ecrm_case_category_delivery")
            )
        customers = [partner for partner, _profile in generated]
        duplicates, merged_original = self._generate_duplicates(rng, customers)
        self._generate_logged_touches(rng, customers, today)
        self.env["ecrm.rfm.score"]._rfm_refresh_all()
        self._scan_and_merge(duplicates, merged_original)
        _logger.info("demo: shop history done in %.0f s", time.monotonic() - started)
        return True

    @api.model
    def _plan_orders(self, rng, generated):
        """[(customer, days ago, most units per line)] of every order."""
        plan = []
        for customer in self._demo_records("res.partner", "demo_customer_"):
            # Skewed like a real shop: many one-off buyers, a few loyal ones.
            orders = min(int(rng.paretovariate(1.3)), 12)
            last_days = rng.choice([3, 10, 25, 60, 120, 250, 400, 600])
            for _n in range(orders):
                plan.append((customer, min(last_days + int(rng.expovariate(1 / 90.0)), 725), 4))
        for customer, (_name, _count, last, recent, older, spread, units) in generated:
            last_days = rng.randint(*last)
            first_days = min(725, last_days + spread)
            year_end = first_days if last_days >= 365 else min(360, first_days)
            plan.append((customer, last_days, units))
            plan.extend((customer, rng.randint(last_days, year_end), units) for _n in range(rng.randint(*recent) - 1))
            if first_days > 370:
                older_days = (max(370, last_days), first_days)
                plan.extend((customer, rng.randint(*older_days), units) for _n in range(rng.randint(0, older)))
        return plan

    @api.model
    def _generate_orders(self, rng, plan, today):
        """The planned orders, confirmed, then dated back (one query)."""
        products = self._demo_records("product.product", "demo_product_")
        # Orders in the company's currency: other demo data (the eCommerce's)
        # may give the customers' countries a pricelist in a currency not active.
        company = self.env.company
        pricelist = self.env["product.pricelist"].search(
            [("currency_id", "=", company.currency_id.id), ("company_id", "in", [company.id, False])], limit=1
        )
        pricelist_vals = {"pricelist_id": pricelist.id} if pricelist else {}
        order_vals, order_dates = [], []
        for customer, days_ago, units in plan:
            order_dates.append(today - timedelta(days=days_ago, hours=rng.randint(0, 8)))
            order_vals.append(
                {
                    "partner_id": customer.id,
                    **pricelist_vals,
                    "order_line": [
                        fields.Command.create({"product_id": product.id, "product_uom_qty": rng.randint(1, units)})
                        for product in rng.sample(products, rng.randint(1, 3))
                    ],
                }
            )
        orders = self.env["sale.order"].create(order_vals)
        orders.action_confirm()
        self.env.flush_all()
        dates = SQL(", ").join(
            SQL("(%s, %s::timestamp)", order.id, date) for order, date in zip(orders, order_dates, strict=True)
        )
        self.env.cr.execute(
            SQL(
                "UPDATE sale_order SET date_order = v.date FROM (VALUES %s) AS v(id, date) WHERE sale_order.id = v.id",
                dates,
            )
        )
        orders.invalidate_recordset(["date_order"])
        return orders

    @api.model
    def _deliver_and_invoice(self, orders, today):
        """Deliver and invoice ``orders`` on their dates; invoices older than
        45 days paid; every fifteenth invoice refunded."""
        pickings = orders.picking_ids
        for quantity in set(pickings.move_ids.mapped("product_uom_qty")):
            pickings.move_ids.filtered(lambda move, q=quantity: move.product_uom_qty == q).quantity = quantity
        pickings.move_ids.picked = True
        pickings._action_done()
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """UPDATE stock_picking p SET date_done = so.date_order + interval '2 days',
                          scheduled_date = so.date_order + interval '1 day'
                     FROM sale_order so WHERE p.sale_id = so.id AND p.id IN %s""",
                tuple(pickings.ids),
            )
        )
        pickings.invalidate_recordset(["date_done", "scheduled_date"])

        invoices = orders._create_invoices(grouped=True)
        by_date = {}
        for invoice in invoices:
            date = invoice.line_ids.sale_line_ids.order_id[:1].date_order.date()
            by_date[date] = by_date.get(date, invoices.browse()) | invoice
        for date, dated in by_date.items():
            dated.invoice_date = date
        invoices.action_post()

        paid = invoices.filtered(lambda inv: inv.invoice_date < today.date() - timedelta(days=45))
        if paid:
            self.env["account.payment.register"].with_context(active_model="account.move", active_ids=paid.ids).create(
                {"group_payment": True}  # one payment per customer, as a bank statement would bring them
            )._create_payments()

        # A few returns credited back.
        refunded = invoices.sorted("id")[::15]
        if refunded:
            reversal = (
                self.env["account.move.reversal"]
                .with_context(active_model="account.move", active_ids=refunded.ids)
                .create({"reason": "Returned goods", "journal_id": refunded[0].journal_id.id})
            )
            reversal.refund_moves()
            refunded.reversal_move_ids.filtered(lambda m: m.state == "draft").action_post()
        return invoices

    @api.model
    def _scan_and_merge(self, duplicates, merged_original):
        """The duplicate scan finds the customers typed twice; the shop already
        merged the group of ``merged_original`` through Odoo's merge wizard."""
        Group = self.env["ecrm.duplicate.group"]
        Group._ecrm_scan()
        group = Group.search([("state", "=", "open"), ("partner_ids", "in", merged_original.ids)], limit=1)
        if group:
            wizard = (
                self.env["base.partner.merge.automatic.wizard"]
                .with_context(
                    active_model="res.partner", active_ids=group.partner_ids.ids, ecrm_duplicate_group_id=group.id
                )
                .create({"dst_partner_id": merged_original.id})
            )
            wizard.action_merge()
        self.env["ir.model.data"]._update_xmlids(
            [
                {"xml_id": "ecrm_addon.demo_duplicate_group_merged", "record": group, "noupdate": True},
                *(
                    {"xml_id": f"ecrm_addon.demo_customer_typed_twice_{n}", "record": dup, "noupdate": True}
                    for n, dup in enumerate(duplicates.exists(), start=1)
                ),
            ]
        )

    @api.model
    def _date_interactions(self, *sources):
        """Date the interactions of back-dated documents as the documents."""
        self.env.flush_all()
        for table, date_column in sources:
            self.env.cr.execute(
                SQL(
                    """UPDATE ecrm_interaction i SET date = doc.%(date)s
                         FROM %(table)s doc
                        WHERE i.res_model = %(model)s AND i.res_id = doc.id AND doc.%(date)s IS NOT NULL""",
                    table=SQL.identifier(table),
                    date=SQL(date_column),
                    model=table.replace("_", "."),
                )
            )
        self.env["ecrm.interaction"].invalidate_model(["date"])

    @api.model
    def _generate_logged_touches(self, rng, customers, today):
        """Calls, visits, letters, chats, social messages... logged over the
        last months: a touch on every channel of the interaction log."""
        Interaction = self.env["ecrm.interaction"]
        vals_list = []
        for channel, direction, category, name in LOGGED_TOUCHES:
            for customer in rng.sample(customers, 6):
                vals_list.append(
                    {
                        "partner_id": customer.id,
                        "date": today - timedelta(days=rng.randint(1, 200), hours=rng.randint(0, 6)),
                        "channel": channel,
                        "direction": direction,
                        "category": category,
                        "name": name,
                    }
                )
        return Interaction.create(vals_list)

    # ------------------------------------------------------------------
    # Cases
    # ------------------------------------------------------------------

    @api.model
    def _generate_case_history(self, seed=DEMO_SEED):
        """Cases in every state of their SLA *today*: the hand-written ones
        dated back, generated ones overdue, at risk (the 75 % warning fired)
        and on time, their escalation levels fired by the engine; the portal
        user's open and solved cases."""
        rng = random.Random(seed + 1)
        now = fields.Datetime.now().replace(microsecond=0)
        ref = self.env.ref
        self._generate_service_desk()
        ref("ecrm_addon.demo_case_late").date_open = now - timedelta(days=6)
        ref("ecrm_addon.demo_case_damaged").date_open = now - timedelta(days=10)
        solved = ref("ecrm_addon.demo_case_invoice")
        solved.date_open = now - timedelta(days=4)
        solved.first_response_date = now - timedelta(days=4) + timedelta(hours=1)
        solved.write({"stage_id": ref("ecrm_addon.ecrm_case_stage_solved").id, "date_closed": now - timedelta(days=3)})

        Case = self.env["ecrm.case"]
        # under the standard policy (a Champion's case falls under the urgent one)
        customers = self.env["res.partner"].search(
            [("customer_rank", ">", 0), ("lang", "=", "es_ES"), ("is_company", "=", False)], order="id"
        )
        customers = customers.filtered(lambda partner: partner.ecrm_segment_id.code != "champions")
        categories = [
            ref(f"ecrm_addon.ecrm_case_category_{key}")
            for key in ("complaint", "information", "return", "delivery", "billing")
        ]
        question = ref("ecrm_addon.ecrm_case_category_information")
        # (xml id, subject, channel, share of the resolution target elapsed, answered, a question:
        # no routing rule takes it, it waits unassigned on the Overview)
        sla_cases = (
            ("overdue_1", "Refund not received after two weeks", "email", 1.3, False, False),
            ("overdue_2", "Wrong colour delivered", "phone", 1.2, True, False),
            ("overdue_3", "Charged twice for one order", "web", 1.5, True, False),
            ("at_risk_1", "Zip of the backpack broken", "chat", 0.85, True, False),
            ("at_risk_2", "Exchange the yoga mat for a bigger one", "social", 0.9, True, False),
            ("at_risk_3", "Invoice needed with the company VAT number", "sms", 0.8, True, False),
            ("on_time_1", "Do the earbuds work with an iPhone?", "chat", 0.0, False, True),
            ("on_time_2", "Change the delivery address", "api", 0.1, True, False),
            ("on_time_3", "Gift wrapping for a birthday", "portal", 0.2, True, False),
            ("on_time_4", "Stock of the running shoes in size 44", "email", 0.0, False, True),
        )
        # the category is drawn for every case (questions too): the rest of the shop stays the same
        cases = Case.create(
            [
                {
                    "subject": subject,
                    "partner_id": rng.choice(customers).id,
                    "channel": channel,
                    "category_id": (rng.choice(categories), question)[is_question].id,
                    "priority": "1",
                    "stage_id": ref(
                        "ecrm_addon.ecrm_case_stage_in_progress" if answered else "ecrm_addon.ecrm_case_stage_new"
                    ).id,
                }
                for _key, subject, channel, _share, answered, is_question in sla_cases
            ]
        )
        for case, (_key, _subject, _channel, share, answered, _question) in zip(cases, sla_cases, strict=True):
            policy = case.policy_id.sudo()
            if not policy or not share:
                continue
            # opened that many working hours before now, in the policy's calendar
            case.date_open = policy._ecrm_plan(now, -policy.resolution_hours * share)
            if answered:
                case.first_response_date = policy._ecrm_plan(case.date_open, min(1, policy.response_hours / 2))
        self.env["ir.model.data"]._update_xmlids(
            [
                {"xml_id": f"ecrm_addon.demo_case_{key}", "record": case, "noupdate": True}
                for case, (key, *_rest) in zip(cases, sla_cases, strict=True)
            ]
        )
        self._generate_rated_cases(rng, now, customers, categories)
        self._generate_portal_cases(now)
        # the escalation cron's work, in the install's transaction (the cron commits per batch)
        Case.search([("next_escalation_at", "<=", now)])._ecrm_escalate(now)
        return True

    @api.model
    def _generate_rated_cases(self, rng, now, customers, categories):
        """Cases solved over the last weeks whose customers answered the rating
        request from its emailed link: CSAT has figures on the Overview and in
        the satisfaction analysis."""
        ref = self.env.ref
        Case = self.env["ecrm.case"]
        channels = ("email", "phone", "web", "chat", "portal", "api")
        cases = Case.create(
            [
                {
                    "subject": subject,
                    "partner_id": rng.choice(customers).id,
                    "channel": channels[index % len(channels)],
                    "category_id": rng.choice(categories).id,
                    "stage_id": ref("ecrm_addon.ecrm_case_stage_in_progress").id,
                }
                for index, subject in enumerate(RATED_CASE_SUBJECTS)
            ]
        )
        for index, case in enumerate(cases):
            closed = now - timedelta(days=2 + 2 * index, hours=rng.randint(0, 6))
            case.write({"date_open": closed - timedelta(days=1), "first_response_date": closed - timedelta(hours=20)})
            # solving it sends the rating request of the Solved stage
            case.write({"stage_id": ref("ecrm_addon.ecrm_case_stage_solved").id, "date_closed": closed})
        requests = self.env["rating.rating"].search([("res_model", "=", "ecrm.case"), ("res_id", "in", cases.ids)])
        for request in requests:
            rate, feedback = rng.choice(RATINGS)
            Case.browse(request.res_id).rating_apply(rate, token=request.access_token, feedback=feedback)

    @api.model
    def _generate_portal_cases(self, now):
        """The portal demo user (portal / portal): orders of their own, an open
        case with a conversation, a solved case whose rating request waits."""
        portal = self.env.ref("base.demo_user0", raise_if_not_found=False)
        if not portal:
            return
        partner = portal.partner_id
        products = self._demo_records("product.product", "demo_product_")
        orders = self.env["sale.order"].create(
            [
                {
                    "partner_id": partner.id,
                    "order_line": [fields.Command.create({"product_id": product.id, "product_uom_qty": 1})],
                }
                for product in products[:2]
            ]
        )
        orders.action_confirm()
        ref = self.env.ref
        open_case, solved = self.env["ecrm.case"].create(
            [
                {
                    "subject": "My running shoes squeak",
                    "partner_id": partner.id,
                    "channel": "portal",
                    "category_id": ref("ecrm_addon.ecrm_case_category_complaint").id,
                    "sale_order_id": orders[0].id,
                    "description": "<p>The left shoe squeaks at every step since the first run.</p>",
                },
                {
                    "subject": "Which size is the backpack?",
                    "partner_id": partner.id,
                    "channel": "portal",
                    "category_id": ref("ecrm_addon.ecrm_case_category_information").id,
                    "sale_order_id": orders[1].id,
                },
            ]
        )
        agent = ref("ecrm_addon.demo_user_agent", raise_if_not_found=False)
        if not agent or open_case.company_id not in agent.company_ids:
            agent = self.env.user  # a shop without the demo agent: its own user answers
        open_case.with_user(agent).message_post(
            body=PORTAL_CONVERSATION[0],
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        open_case.message_post(
            body=PORTAL_CONVERSATION[1],
            author_id=partner.id,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        solved.with_user(agent).message_post(
            body=PORTAL_CONVERSATION[2],
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        # solving it sends the rating request of the Solved stage
        solved.stage_id = ref("ecrm_addon.ecrm_case_stage_solved")
        self.env["ir.model.data"]._update_xmlids(
            [
                {"xml_id": "ecrm_addon.demo_case_portal_open", "record": open_case, "noupdate": True},
                {"xml_id": "ecrm_addon.demo_case_portal_solved", "record": solved, "noupdate": True},
            ]
        )

    # ------------------------------------------------------------------
    # Contact pressure
    # ------------------------------------------------------------------

    @api.model
    def _generate_marketing(self, seed=DEMO_SEED):
        """The shipped pressure rules turned on, four campaigns of the last
        weeks, and yesterday's newsletter sent through the pressure engine:
        customers already mailed four times this month are excluded, those
        mailed the day before are deferred until their 48 hours pass."""
        rng = random.Random(seed + 2)
        ref = self.env.ref
        (
            ref("ecrm_addon.ecrm_pressure_rule_email_default") | ref("ecrm_addon.ecrm_pressure_rule_sms_default")
        ).active = True
        now = fields.Datetime.now().replace(microsecond=0)
        customers = self.env["res.partner"].search(
            [("customer_rank", ">", 0), ("email", "!=", False), ("is_company", "=", False)], order="id"
        )
        frequent = rng.sample(customers, 12)
        yesterday = rng.sample(customers - self.env["res.partner"].concat(*frequent), 10)
        model = self.env["ir.model"]._get("res.partner")
        campaigns = (
            ("Spring collection", 22, frequent),
            ("Running club offers", 15, frequent),
            ("Yoga week", 8, frequent),
            ("Weekend picks", 1, frequent + yesterday),
        )
        Mailing = self.env["mailing.mailing"]
        for subject, days_ago, recipients in campaigns:
            ids = sorted(partner.id for partner in recipients)
            mailing = Mailing.create(
                {
                    "subject": subject,
                    "mailing_model_id": model.id,
                    "mailing_domain": repr([("id", "in", ids)]),
                    "body_html": f"<p>{subject}</p>",
                }
            )
            self._send_mailing(mailing, ids)
            date = now - timedelta(days=days_ago)
            self.env.flush_all()
            self.env.cr.execute(
                SQL(
                    """UPDATE ecrm_interaction SET date = %(date)s
                        WHERE res_model = 'mailing.mailing' AND res_id = %(id)s""",
                    date=date,
                    id=mailing.id,
                )
            )
            self.env.cr.execute(
                SQL(
                    """UPDATE mailing_trace SET create_date = %(date)s, sent_datetime = %(date)s
                        WHERE mass_mailing_id = %(id)s""",
                    date=date,
                    id=mailing.id,
                )
            )
            self.env.cr.execute(
                SQL("UPDATE mailing_mailing SET sent_date = %(date)s WHERE id = %(id)s", date=date, id=mailing.id)
            )
            self.env.invalidate_all()
        newsletter = Mailing.create(
            {
                "subject": "Our autumn newsletter",
                "mailing_model_id": model.id,
                "mailing_domain": repr([("id", "in", customers.ids)]),
                "body_html": "<p>New arrivals, the running club and a gift for our best customers.</p>",
                "ecrm_pressure_defer": True,
                "ecrm_pressure_defer_until": now + timedelta(days=3),
            }
        )
        self._send_mailing(newsletter, customers.ids)
        self.env["ir.model.data"]._update_xmlids(
            [{"xml_id": "ecrm_addon.demo_mailing_newsletter", "record": newsletter, "noupdate": True}]
        )
        return True

    @api.model
    def _send_mailing(self, mailing, res_ids):
        """Odoo's mass-mailing send (mass_mailing's ``_action_send_mail``) without
        its commits between batches: the install is one transaction. The mails
        are then marked as gone out, as the mail queue would after sending."""
        composer = (
            self.env["mail.compose.message"]
            .with_context(
                active_ids=res_ids, default_composition_mode="mass_mail", **mailing._get_mass_mailing_context()
            )
            .create(
                {
                    "body": mailing.body_html,
                    "composition_mode": "mass_mail",
                    "email_from": mailing.email_from,
                    "mass_mailing_id": mailing.id,
                    "model": mailing.mailing_model_real,
                    "record_name": False,
                    "subject": mailing.subject,
                    "template_id": False,
                    "auto_delete": True,
                }
            )
        )
        mails, _messages = composer._action_send_mail(auto_commit=False)
        mailing.write({"state": "done", "sent_date": fields.Datetime.now()})
        self.env["mailing.trace"].search(
            [("mass_mailing_id", "=", mailing.id), ("trace_status", "=", "outgoing")]
        ).set_sent()
        # sudo: the queue's own mails (under test, Odoo may have sent and deleted some already)
        mails.exists().filtered(lambda mail: mail.state == "outgoing").sudo().unlink()
        return mails
