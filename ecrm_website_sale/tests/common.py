# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command


class ShopCommon:
    """A website, a published product and an existing customer with a past order."""

    @classmethod
    def setup_shop(cls):
        cls.website = cls.env.ref("website.default_website")
        cls.product = cls.env["product.product"].create(
            {"name": "Trail Shoe", "list_price": 80.0, "sale_ok": True, "is_published": True, "type": "consu"}
        )
        cls.spain = cls.env.ref("base.es")
        cls.customer = cls.env["res.partner"].create(
            {
                "name": "Jane Secretname",
                "email": "jane@shop.example",
                "phone": "+34 600 111 222",
                "street": "1 Hidden Lane",
                "city": "Madrid",
                "zip": "28001",
                "country_id": cls.spain.id,
            }
        )
        cls.past_order = cls.env["sale.order"].create(
            {"partner_id": cls.customer.id, "order_line": [Command.create({"product_id": cls.product.id})]}
        )
        cls.past_order.action_confirm()

    @classmethod
    def guest_order(cls, **guest_values):
        """A website order checked out by a guest who typed ``guest_values``."""
        guest = cls.env["res.partner"].create(
            {
                "name": "Guest Buyer",
                "email": "Jane@Shop.example",
                "street": "9 Open Road",
                "city": "Sevilla",
                "zip": "41001",
                "country_id": cls.spain.id,
                **guest_values,
            }
        )
        return cls.env["sale.order"].create(
            {
                "partner_id": guest.id,
                "website_id": cls.website.id,
                "ecrm_guest_checkout": True,
                "order_line": [Command.create({"product_id": cls.product.id})],
            }
        )
