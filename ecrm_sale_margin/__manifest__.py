# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "e-CRM Sales Margins",
    "summary": "Customer value as gross margin when the shop enables sales margins",
    "version": "18.0.1.0.0",
    "category": "Sales/CRM",
    "website": "https://github.com/ecrm-addon/ecrm_addon",
    "author": "ecrm_addon contributors",
    "license": "LGPL-3",
    "development_status": "Beta",
    "maintainers": ["ecrm-addon"],
    "depends": ["ecrm_addon", "sale_margin"],
    "auto_install": True,
    "installable": True,
}
