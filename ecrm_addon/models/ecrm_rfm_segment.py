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

    _sql_constraints = [
        ("code_unique", "UNIQUE(code)", "The code of an RFM segment must be unique."),
    ]

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
