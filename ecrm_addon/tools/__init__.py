# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Pure helpers of ecrm_addon: no odoo import, unit-tested with plain pytest."""
