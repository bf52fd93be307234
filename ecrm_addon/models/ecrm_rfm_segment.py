# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError


class EcrmRfmSegment(models.Model):
    """A named box of RFM scores; the first segment in sequence whose ranges
    hold a customer's scores is the customer's segment."""

    _name = "ecrm.rfm.segment"
    _description = "RFM Segment"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(required=True, help="Stable identifier used by imports and other modules.")
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    color = fields.Integer()
    description = fields.Text(translate=True)
    suggested_action = fields.Text(translate=True, help="What the shop should do with these customers.")
    r_min = fields.Integer(string="Recency from", default=1)
    r_max = fields.Integer(string="Recency to", default=5)
    f_min = fields.Integer(string="Frequency from", default=1)
    f_max = fields.Integer(string="Frequency to", default=5)
    m_min = fields.Integer(string="Monetary from", default=1)
    m_max = fields.Integer(string="Monetary to", default=5)
    action_ids = fields.One2many(
        "ecrm.segment.action",
        "segment_id",
        string="Actions",
        context={"active_test": False},
        groups="ecrm_addon.group_ecrm_user",
        help="What the RFM run does when a customer enters or leaves the segment.",
    )
    customer_count = fields.Integer(
        string="Customers",
        compute="_compute_customer_count",
        groups="ecrm_addon.group_ecrm_user",
        help="Customers in this segment (current company).",
    )

    _sql_constraints = [
        ("code_unique", "UNIQUE(code)", "The code of an RFM segment must be unique."),
    ]

    @api.depends_context("company")
    def _compute_customer_count(self):
        counts = dict(
            self.env["ecrm.rfm.score"]._read_group(
                [("company_id", "=", self.env.company.id), ("segment_id", "in", self.ids)],
                groupby=["segment_id"],
                aggregates=["__count"],
            )
        )
        for segment in self:
            segment.customer_count = counts.get(segment, 0)

    @api.constrains("r_min", "r_max", "f_min", "f_max", "m_min", "m_max")
    def _check_ranges(self):
        for segment in self:
            for low, high, label in (
                (segment.r_min, segment.r_max, self.env._("Recency")),
                (segment.f_min, segment.f_max, self.env._("Frequency")),
                (segment.m_min, segment.m_max, self.env._("Monetary")),
            ):
                if not 1 <= low <= high <= 5:
                    raise ValidationError(
                        self.env._(
                            "%(segment)s: the %(score)s range must lie within 1..5 with 'from' not above 'to' "
                            "(got %(low)s..%(high)s).",
                            segment=segment.name,
                            score=label,
                            low=low,
                            high=high,
                        )
                    )

    def action_view_customers(self):
        """The customers of this segment (current company), contacts included."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.name,
            "res_model": "res.partner",
            "view_mode": "list,kanban,form",
            "views": [(False, "list"), (False, "kanban"), (False, "form")],
            "domain": [("ecrm_rfm_score_ids", "any", self._ecrm_score_domain())],
        }

    def _ecrm_score_domain(self):
        self.ensure_one()
        return [("company_id", "=", self.env.company.id), ("segment_id", "=", self.id)]

    def action_send_mailing(self):
        """A new mass mailing to the customers of this segment (current company).

        The recipients' domain names the company and the segment, so that it
        holds whichever company the mailing is sent from and follows the scores
        up to the moment it is sent. Context key ``ecrm_mailing_type`` "sms":
        an SMS mailing to the segment's customers who prefer SMS. Both land in
        the segment's campaign: with a mailing on each channel, every customer
        who prefers one gets that one only (``mailing.mailing._ecrm_route_preferred``)."""
        self.ensure_one()
        domain = [("ecrm_rfm_score_ids", "any", self._ecrm_score_domain())]
        mailing_type = "sms" if self.env.context.get("ecrm_mailing_type") == "sms" else "mail"
        if mailing_type == "sms":
            domain.append(("ecrm_preferred_channel", "=", "sms"))
        return {
            "type": "ir.actions.act_window",
            "res_model": "mailing.mailing",
            "view_mode": "form",
            "views": [(False, "form")],
            "context": {
                "default_subject": self.name,
                "default_mailing_type": mailing_type,
                "default_mailing_model_id": self.env["ir.model"]._get_id("res.partner"),
                "default_mailing_domain": repr(domain),
                "default_campaign_id": self._ecrm_campaign().id,
            },
        }

    def _ecrm_campaign(self):
        """The marketing campaign of the segment's mailings (created on first use)."""
        self.ensure_one()
        name = self.env._("Segment: %(segment)s", segment=self.name)
        Campaign = self.env["utm.campaign"]
        return Campaign.search([("name", "=", name)], limit=1) or Campaign.create({"name": name})

    def action_ecrm_compute_rfm(self):
        return self.env["ecrm.rfm.score"].action_ecrm_compute_rfm()
