# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class EcrmCase(models.Model):
    """Customer satisfaction: a case reaching a stage with a rating request
    (shipped: Solved) asks its customer once to rate the service on Odoo's
    public rating page; the answer lands on the case and the customer's log."""

    _name = "ecrm.case"
    _inherit = ["ecrm.case", "rating.mixin"]

    # computed before the insert of a new case (see ecrm_case.py: its stored
    # computes); the mixin gives a new case 0 without a query
    rating_last_value = fields.Float(compute="_compute_rating_last_value", store=True, precompute=True)

    def write(self, vals):
        res = super().write(vals)
        if vals.get("stage_id"):
            self._ecrm_request_rating()
        return res

    def _ecrm_request_rating(self):
        """Send the rating request of their stage to the cases never asked
        before (one request per case), whose customer may get an email. A
        transactional message: never blocked by pressure rules, logged."""
        cases = self.filtered(lambda case: case.stage_id.rating_template_id and case.partner_id)
        if not cases:
            return self.browse()
        # sudo: ratings are read by their managers only; whether one exists is enough here
        asked = {
            res_id
            for [res_id] in self.env["rating.rating"]
            .sudo()
            ._read_group([("res_model", "=", self._name), ("res_id", "in", cases.ids)], ["res_id"])
        }
        cases = (
            cases.filtered(lambda case: case.id not in asked)
            ._ecrm_reachable()
            .filtered(lambda case: case._ecrm_post_customer_template(case.stage_id.rating_template_id))
        )
        cases._ecrm_log_customer_mail(self.env._("Rating requested"), "transactional")
        return cases

    def rating_apply(self, rate, token=None, rating=None, feedback=None, subtype_xmlid=None, notify_delay_send=False):
        rating = super().rating_apply(
            rate,
            token=token,
            rating=rating,
            feedback=feedback,
            subtype_xmlid=subtype_xmlid,
            notify_delay_send=notify_delay_send,
        )
        text = dict(rating._fields["rating_text"]._description_selection(self.env))[rating.rating_text]
        self.env["ecrm.interaction"]._log(
            [
                {
                    "partner_id": (rating.partner_id or case.partner_id).id,
                    "name": self.env._(
                        "Case rated %(text)s: %(case)s %(feedback)s",
                        text=text,
                        case=case.name,
                        feedback=feedback or "",
                    ).strip(),
                    "channel": "web",
                    "direction": "inbound",
                    "category": "service",
                    "res_model": self._name,
                    "res_id": case.id,
                    "company_id": case.company_id.id,
                }
                for case in self
            ]
        )
        return rating
