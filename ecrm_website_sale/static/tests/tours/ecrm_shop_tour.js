/* Copyright 2026 ecrm_addon contributors
 * License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl). */
import { registry } from "@web/core/registry";
import * as tourUtils from "@website_sale/js/tours/tour_utils";

// A visitor checks out as a guest, typing the email of an existing customer,
// up to the payment step (the test confirms the order as a payment would).
registry.category("web_tour.tours").add("ecrm_shop_guest_checkout", {
    url: "/shop",
    steps: () => [
        ...tourUtils.addToCart({ productName: "Tour Trail Shoe" }),
        tourUtils.goToCart(),
        tourUtils.goToCheckout(),
        ...tourUtils.fillAdressForm({
            name: "Tour Guest",
            phone: "+32 470 12 34 56",
            email: "tour.jane@shop.example",
            street: "9 Open Road",
            city: "Brussels",
            zip: "1000",
        }),
        tourUtils.confirmOrder(),
        {
            content: "The payment step is reached",
            trigger: 'h3:contains("Confirm order")',
        },
        {
            content: "Nothing of the existing customer is shown to the guest",
            trigger: "body:not(:contains(Tour Jane)):not(:contains(Hidden Lane))",
        },
    ],
});

// The agent opens the customer: the guest's order and the abandoned cart are in its log.
registry.category("web_tour.tours").add("ecrm_shop_agent_360", {
    steps: () => [
        {
            content: "The customer's profile is shown",
            trigger: '.o_form_view .o_field_widget[name="name"] input:value("Tour Jane")',
        },
        {
            content: "Open the customer's interactions",
            trigger: 'button[name="action_ecrm_interactions"]',
            run: "click",
        },
        {
            content: "The guest's order, confirmed on the web, is in the log",
            trigger: '.o_list_view .o_data_row:contains("TOUR/SHOP/001"):contains("Web")',
        },
        {
            content: "The abandoned cart is in the log",
            trigger: '.o_list_view .o_data_row:contains("Abandoned cart TOUR/CART/001")',
        },
        {
            content: "Open the guest's order from the log",
            trigger: '.o_list_view .o_data_row:contains("TOUR/SHOP/001") button[name="action_open_document"]',
            run: "click",
        },
        {
            content: "The order is the customer's",
            trigger: '.o_form_view .o_field_widget[name="partner_id"]:contains("Tour Jane")',
        },
    ],
});
