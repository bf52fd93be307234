# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "e-CRM Live Chat",
    "summary": "Turn a live chat conversation into an e-CRM case with /case",
    "version": "18.0.1.0.0",
    "category": "Sales/CRM",
    "website": "https://github.com/ecrm-addon/ecrm_addon",
    "author": "ecrm_addon contributors",
    "license": "LGPL-3",
    "development_status": "Beta",
    "maintainers": ["ecrm-addon"],
    "depends": ["ecrm_addon", "im_livechat"],
    "auto_install": True,
    "installable": True,
    "data": [
        "views/ecrm_case_views.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "ecrm_livechat/static/src/core/*",
        ],
    },
}
