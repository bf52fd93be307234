"""Pure helpers of ecrm_addon: no odoo import, unit-tested with plain pytest."""
