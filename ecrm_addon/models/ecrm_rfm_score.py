from odoo import fields, models


class EcrmRfmScore(models.Model):
    """The current RFM figures of one customer in one company.

    Narrow on purpose: the engine rewrites every row on each refresh, which is
    far cheaper here than rewriting wide res_partner rows. The partner shows
    the row of the current company.
    """

    _name = "ecrm.rfm.score"
    _description = "RFM Score"
    _order = "company_id, partner_id"
    _rec_name = "partner_id"

    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, ondelete="cascade", index=True, readonly=True
    )
    company_id = fields.Many2one("res.company", required=True, ondelete="cascade", readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    date = fields.Date(string="Computed for", readonly=True)
    last_purchase_date = fields.Date(readonly=True)
    recency_days = fields.Integer(string="Recency (days)", readonly=True)
    frequency = fields.Integer(readonly=True)
    monetary = fields.Monetary(currency_field="currency_id", readonly=True)
    r_score = fields.Integer(string="R", readonly=True)
    f_score = fields.Integer(string="F", readonly=True)
    m_score = fields.Integer(string="M", readonly=True)
    segment_id = fields.Many2one("ecrm.rfm.segment", index=True, readonly=True)

    _sql_constraints = [
        ("partner_company_unique", "UNIQUE(company_id, partner_id)", "A customer has one RFM score per company."),
    ]
