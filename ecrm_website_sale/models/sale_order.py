# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from odoo import fields, models
from odoo.tools import email_normalize

# What a guest typed and sees again on their order: an existing contact is
# reused only when all of it is the same, so that nothing new is shown.
GUEST_CONTACT_FIELDS = ("name", "email", "phone", "street", "street2", "zip", "city", "state_id", "country_id")
# Order values that depend on the customer but were settled at the checkout:
# kept as they are when the order moves to the existing customer.
GUEST_KEPT_FIELDS = ("fiscal_position_id", "payment_term_id", "user_id", "team_id")


def _contact_value(partner, fname):
    value = partner[fname]
    if fname == "email":
        return email_normalize(value or "") or (value or "").strip().casefold()
    if isinstance(value, models.BaseModel):
        return value.id
    return " ".join((value or "").split()).casefold()


class SaleOrder(models.Model):
    _inherit = "sale.order"

    ecrm_guest_checkout = fields.Boolean(
        string="Guest Checkout",
        readonly=True,
        copy=False,
        help="The order was checked out on the website without logging in.",
    )
    ecrm_guest_matched = fields.Boolean(
        string="Put on Existing Customer",
        readonly=True,
        copy=False,
        help="The guest's email or phone was an existing customer's: the order was moved to that customer "
        "when it was confirmed.",
    )

    def action_confirm(self):
        result = super().action_confirm()
        self.filtered(
            lambda o: o.state == "sale" and o.ecrm_guest_checkout and not o.ecrm_guest_matched
        )._ecrm_attach_guest()
        return result

    # --- guest checkout on an existing customer ------------------------------------

    def _ecrm_attach_guest(self):
        """Move guest orders to the existing customer their email or phone points to.

        Runs once the order is confirmed (its confirmation email went to what
        the guest typed): the order's customer becomes that commercial entity,
        the billing and delivery addresses an existing contact of it when all
        the guest typed is the same, else the guest's contact becomes a new
        contact of the customer. The guest is never shown anything of the
        customer: no portal access is given and the pages of the order name
        the contacts by what the guest typed (see the controllers)."""
        attached = self.browse()
        # sudo: a guest order is confirmed by its payment, as the public user; the
        # matching sees every customer and nothing of them goes back to the guest
        for order in self.sudo():
            guest = order.partner_id
            if guest.user_ids or guest.parent_id:
                continue
            customer = order._ecrm_guest_customer()
            if not customer:
                continue
            # a sign-up link the guest was given before (a payment still pending then) dies here
            guest.signup_cancel()
            shipping = order._ecrm_guest_contact(order.partner_shipping_id, customer, "delivery")
            invoice = order._ecrm_guest_contact(order.partner_invoice_id, customer, "invoice")
            kept = {fname: order[fname].id for fname in GUEST_KEPT_FIELDS}
            order.write(
                {
                    **kept,
                    "partner_id": customer.id,
                    "partner_invoice_id": invoice.id,
                    "partner_shipping_id": shipping.id,
                    "ecrm_guest_matched": True,
                }
            )
            order.picking_ids.filtered(lambda p, guest=guest: p.partner_id == guest).partner_id = shipping
            self.env["ecrm.interaction"].sudo().search(
                [("res_model", "=", "sale.order"), ("res_id", "=", order.id)]
            ).partner_id = customer
            # the guest's own partner, now unused: archived (it would read as a duplicate)
            if not (guest & (invoice | shipping)):
                guest.active = False
            order.message_post(
                body=self.env._(
                    "Guest checkout: the email or phone is the one of %(customer)s; the order was moved to "
                    "that customer.",
                    customer=customer.display_name,
                ),
                subtype_xmlid="mail.mt_note",
            )
            attached |= order
        return attached

    def _ecrm_guest_mail_contacts(self):
        """``{order id: contact}`` of the orders put on an existing customer
        whose guest typed another email than the customer's (a match by phone):
        their emails go to the guest's contact (the invoice address, holding
        what the guest typed), not to the customer's own email."""
        return {
            order.id: order.partner_invoice_id
            for order in self.filtered("ecrm_guest_matched")
            if _contact_value(order.partner_invoice_id, "email") != _contact_value(order.partner_id, "email")
        }

    def _ecrm_guest_customer(self):
        """The existing customer (commercial partner) the guest's email or phone
        points to, other than the guest itself; empty when none."""
        self.ensure_one()
        guest = self.partner_id
        candidates = self.env["res.partner"]._ecrm_match_candidates(
            email=guest.email or None,
            phone=guest.phone or guest.mobile or None,
            country=guest.country_id or None,
            company=self.company_id,
        )
        return candidates.filtered(lambda p: p.commercial_partner_id != guest)[:1].commercial_partner_id

    def _ecrm_guest_contact(self, contact, customer, address_type):
        """The contact of ``customer`` for the address the guest typed
        (``contact``): an existing one when all of it is the same, else
        ``contact`` itself made a contact of the customer."""
        if contact.commercial_partner_id == customer:
            return contact
        family = self.env["res.partner"].search([("id", "child_of", customer.id)], order="id")
        typed = [_contact_value(contact, fname) for fname in GUEST_CONTACT_FIELDS]
        for candidate in family:
            if [_contact_value(candidate, fname) for fname in GUEST_CONTACT_FIELDS] == typed:
                return candidate
        if contact.user_ids or contact.parent_id:
            return contact
        contact.write({"parent_id": customer.id, "type": address_type})
        return contact

    # --- abandoned carts and contact pressure -----------------------------------------

    def _filter_can_send_abandoned_cart_mail(self):
        """Odoo's recovery email is marketing: the carts a pressure rule
        blocks are held back (see ``_ecrm_cart_recovery_pressure``). The
        sending cron (``website._send_abandoned_cart_email``) collects the
        held and allowed carts through the context."""
        orders = super()._filter_can_send_abandoned_cart_mail()
        allowed, held = orders._ecrm_cart_recovery_pressure()
        if (held_ids := self.env.context.get("ecrm_cart_held")) is not None:
            held_ids.extend(held.ids)
        if (allowed_ids := self.env.context.get("ecrm_cart_allowed")) is not None:
            allowed_ids.extend(allowed.ids)
        return allowed

    def _cart_recovery_email_send(self):
        """The same pressure rules on the recovery email of automation rules."""
        allowed, _held = self._ecrm_cart_recovery_pressure()
        result = super(SaleOrder, allowed)._cart_recovery_email_send()
        allowed._ecrm_log_cart_recovery()
        return result

    def _ecrm_cart_recovery_pressure(self):
        """Split the carts to remind into ``(allowed, held)`` by the email
        marketing rules of their company: one query per company. A blocked
        cart is held (retried at the next run) when its rule frees within the
        company's deferral after the cart, else excluded with a note on the
        order. Under a rule, a customer gets one reminder per run."""
        Rule = self.env["ecrm.pressure.rule"]
        allowed = held = self.browse()
        excluded = []
        for company, orders in self.grouped("company_id").items():
            commercials = orders.partner_id.commercial_partner_id
            verdicts = Rule._ecrm_check(company, "email", "marketing", partner_ids=commercials.ids)
            defer = timedelta(days=company.ecrm_cart_recovery_defer_days)
            reminded = set()
            for order in orders.sorted(lambda o: (o.date_order, o.id), reverse=True):
                customer = order.partner_id.commercial_partner_id.id
                verdict = verdicts.get(customer)
                if verdict and verdict.rule_id:
                    if defer and verdict.blocked_until <= order.date_order + defer:
                        held |= order
                    else:
                        excluded.append((order, verdict))
                elif verdict and verdict.limits and customer in reminded:
                    held |= order
                else:
                    allowed |= order
                    reminded.add(customer)
        # sudo: the sender may not read the rules; only their names go to the note
        Rule = Rule.sudo()
        for order, verdict in excluded:
            order.message_post(
                body=self.env._(
                    "Cart recovery email not sent: excluded by pressure rule %(rule)s (blocked until %(date)s UTC).",
                    rule=Rule.browse(verdict.rule_id).name,
                    date=fields.Datetime.to_string(verdict.blocked_until),
                ),
                subtype_xmlid="mail.mt_note",
            )
        return allowed, held

    def _ecrm_log_cart_recovery(self):
        """The recovery emails sent, as marketing touches of their customers."""
        Interaction = self.env["ecrm.interaction"]
        now = fields.Datetime.now()
        Interaction._log(
            [
                Interaction._log_values(
                    order,
                    order.partner_id.id,
                    self.env._("Cart recovery email: %(order)s", order=order.name),
                    "email",
                    "outbound",
                    "marketing",
                    date=now,
                    company_id=order.company_id.id,
                )
                for order in self
            ]
        )

    # --- recommendations on the cart -------------------------------------------------

    def _cart_accessories(self):
        """The products to offer the logged-in customer (the rules of
        "frequently bought together") instead of the accessories, when
        there are any."""
        return self._ecrm_cart_offers() or super()._cart_accessories()

    def _ecrm_cart_offers(self):
        """The products the rules offer the customer of this cart, when a
        customer is logged in, that can be added to it and are not in it."""
        self.ensure_one()
        # sudo: the website's public user, to compare with the cart's customer
        public_partner = self.website_id.sudo().user_id.partner_id
        if self.env.user._is_public() or not self.partner_id or self.partner_id == public_partner:
            return []
        customer = self.partner_id.commercial_partner_id
        offers = customer._ecrm_offers(self.company_id).get(customer.id, [])
        in_cart = set(self.website_order_line.product_id.ids)
        products = self.env["product.product"].browse([pid for pid in offers if pid not in in_cart])
        return list(products.filtered(lambda p: p._is_add_to_cart_allowed()))
