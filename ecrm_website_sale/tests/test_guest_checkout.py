# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import odoo
from odoo import Command
from odoo.addons.website_sale.controllers.main import WebsiteSale
from odoo.tests import HttpCase, tagged

from .common import ShopCommon

SECRETS = ("Secretname", "Hidden Lane", "600 111 222")


@tagged("post_install", "-at_install")
class TestGuestCheckout(ShopCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_shop()
        cls.env["ir.config_parameter"].sudo().set_param("auth_signup.invitation_scope", "b2c")

    def test_guest_order_lands_on_the_existing_customer(self):
        order = self.guest_order()
        guest = order.partner_id
        order.action_confirm()
        self.assertEqual(order.partner_id, self.customer)
        self.assertTrue(order.ecrm_guest_matched)
        # the new address is a delivery contact of the customer, with what the guest typed
        self.assertEqual(order.partner_shipping_id, guest)
        self.assertEqual(guest.parent_id, self.customer)
        self.assertEqual(guest.type, "delivery")
        self.assertEqual(guest.street, "9 Open Road")
        self.assertFalse(guest.user_ids)
        logged = self.env["ecrm.interaction"].search([("res_model", "=", "sale.order"), ("res_id", "=", order.id)])
        self.assertEqual(logged.partner_id, self.customer)
        self.assertEqual(order.picking_ids.partner_id, guest)

    def test_same_address_reuses_the_contact(self):
        order = self.guest_order(
            name="Jane Secretname",
            email="jane@shop.example",
            phone="+34 600 111 222",
            street="1 Hidden Lane",
            city="Madrid",
            zip="28001",
        )
        guest = order.partner_id
        order.action_confirm()
        self.assertEqual(order.partner_invoice_id, self.customer)
        self.assertEqual(order.partner_shipping_id, self.customer)
        self.assertFalse(guest.active, "the guest's partner, now unused, is archived")
        self.assertEqual(self.env["res.partner"].search_count([("id", "child_of", self.customer.id)]), 1)

    def test_phone_matches_too(self):
        order = self.guest_order(email="other@elsewhere.example", phone="600111222")
        order.action_confirm()
        self.assertEqual(order.partner_id, self.customer)

    def test_unknown_guest_stays_a_customer_of_its_own(self):
        order = self.guest_order(email="new@elsewhere.example")
        guest = order.partner_id
        order.action_confirm()
        self.assertEqual(order.partner_id, guest)
        self.assertFalse(order.ecrm_guest_matched)
        self.assertFalse(guest.parent_id)

    def test_logged_in_orders_are_left_alone(self):
        order = self.guest_order()
        order.ecrm_guest_checkout = False
        guest = order.partner_id
        order.action_confirm()
        self.assertEqual(order.partner_id, guest)

    def test_phone_match_mails_go_to_the_typed_email(self):
        """A match by phone only: the order is the customer's, but its emails
        go to the email the guest typed (its invoice and delivery contact),
        never to the customer's own email."""
        order = self.guest_order(email="other@elsewhere.example", phone="600111222")
        order.action_confirm()
        self.assertEqual(order.partner_id, self.customer)
        contact = order.partner_invoice_id
        self.assertEqual(contact.email, "other@elsewhere.example")
        self.assertEqual(contact.commercial_partner_id, self.customer)
        self.assertEqual(order.partner_shipping_id, contact)
        order._send_order_notification_mail(self.env.ref("sale.email_template_edi_sale"))
        message = order.message_ids[0]
        self.assertIn(contact, message.partner_ids)
        self.assertNotIn(self.customer, message.partner_ids)
        # matched by email: the customer's own email is the typed one, nothing changes
        same = self.guest_order()
        same.action_confirm()
        same._send_order_notification_mail(self.env.ref("sale.email_template_edi_sale"))
        self.assertIn(self.customer, same.message_ids[0].partner_ids)

    def test_express_checkout_is_a_guest_checkout(self):
        """The express checkout (a wallet's addresses put on the public user's
        cart) is flagged as the address form is: the order lands on the
        customer its email points to."""
        cart = self.env["sale.order"].create(
            {
                "partner_id": self.website.user_id.partner_id.id,
                "website_id": self.website.id,
                "order_line": [Command.create({"product_id": self.product.id})],
            }
        )
        self.authenticate(None, None)
        self.session["sale_order_id"] = cart.id
        odoo.http.root.session_store.save(self.session)
        billing = {
            "name": "Wallet Buyer",
            "email": "jane@shop.example",
            "phone": "+34 699 000 000",
            "street": "9 Open Road",
            "city": "Sevilla",
            "zip": "41001",
            "country": "ES",
        }
        self.make_jsonrpc_request(
            f"{self.base_url()}{WebsiteSale._express_checkout_route}", params={"billing_address": billing}
        )
        self.assertTrue(cart.ecrm_guest_checkout)
        guest = cart.partner_id
        self.assertEqual(guest.name, "Wallet Buyer")
        cart.action_confirm()
        self.assertEqual(cart.partner_id, self.customer)
        self.assertTrue(cart.ecrm_guest_matched)
        self.assertEqual(cart.partner_shipping_id, guest)

    def _public_session(self, order):
        self.authenticate(None, None)
        self.session["sale_last_order_id"] = order.id
        odoo.http.root.session_store.save(self.session)

    def test_guest_pages_leak_nothing_of_the_customer(self):
        """What the public user reads of the order (its portal page with the
        token, the shop's confirmation page) shows what the guest typed before
        the order moves to the customer, and nothing more after."""
        order = self.guest_order()
        order._portal_ensure_token()
        portal_url = f"/my/orders/{order.id}?access_token={order.access_token}"
        self._public_session(order)
        before = self.url_open(portal_url)
        self.assertEqual(before.status_code, 200)
        order.action_confirm()
        self.assertEqual(order.partner_id, self.customer)
        after = self.url_open(portal_url)
        confirmation = self.url_open("/shop/confirmation")
        self.assertEqual(after.status_code, 200)
        self.assertEqual(confirmation.status_code, 200)
        for page in (before, after, confirmation):
            for secret in (*SECRETS, self.past_order.name):
                self.assertNotIn(secret, page.text)
        for page in (before, after):
            self.assertIn("Guest Buyer", page.text)
            self.assertIn("9 Open Road", page.text)
        self.assertIn("9 Open Road", confirmation.text)
        # no sign-up on the customer: it would open their account
        self.assertNotIn("/web/signup", confirmation.text)
        # the public user has no history, the customer's orders stay theirs
        self.assertNotIn(self.past_order.name, self.url_open("/my/orders").text)

    def test_signup_goes_to_the_duplicate_review_at_once(self):
        user = (
            self.env["res.users"]
            .sudo()
            ._signup_create_user({"login": "jane@shop.example", "email": "jane@shop.example", "name": "Jane S."})
        )
        group = self.env["ecrm.duplicate.group"].search([("key_type", "=", "email"), ("key", "=", "jane@shop.example")])
        self.assertEqual(group.state, "open")
        self.assertEqual(group.partner_ids, self.customer | user.partner_id)
        # the nightly scan finds the same group, known already
        self.assertFalse(self.env["ecrm.duplicate.group"]._ecrm_scan().filtered(lambda g: g.key == group.key))
        self.assertTrue(group.exists())
