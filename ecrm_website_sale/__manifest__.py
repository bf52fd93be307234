# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "e-CRM eCommerce",
    "summary": "Checkout and signup on the one customer, cases from the shop, "
    "carts and browsing in the interaction log, offers on the cart",
    "version": "18.0.1.0.0",
    "category": "Sales/CRM",
    "website": "https://github.com/ecrm-addon/ecrm_addon",
    "author": "ecrm_addon contributors",
    "license": "LGPL-3",
    "development_status": "Beta",
    "maintainers": ["ecrm-addon"],
    "depends": ["ecrm_addon", "website_sale"],
    "auto_install": True,
    "installable": True,
    "data": [
        "security/ir.model.access.csv",
        "data/ecrm_web_activity_cron.xml",
        "views/ecrm_interaction_views.xml",
        "views/res_config_settings_views.xml",
        "views/website_templates.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "ecrm_website_sale/static/tests/tours/*.js",
        ],
    },
}
