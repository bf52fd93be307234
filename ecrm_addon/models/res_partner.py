from odoo import models


class ResPartner(models.Model):
    _inherit = "res.partner"

    # --- Identity keys, matching, duplicates, customer 360 -----------------

    # --- RFM -----------------------------------------------------------------

    # --- Contact pressure ----------------------------------------------------
