# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models

ONBOARDING_TOUR = "ecrm_onboarding_tour"


class WebTourTour(models.Model):
    _inherit = "web_tour.tour"

    @api.model
    def get_current_tour(self):
        """Odoo offers a user with Onboarding on the first tour they have not
        followed yet. The e-CRM onboarding goes through the segments'
        configuration and a mailing: a user who cannot open them is offered
        the next tour instead (same search as Odoo's, without ours)."""
        tour = super().get_current_tour()
        if tour and tour["name"] == ONBOARDING_TOUR and not self._ecrm_can_follow_onboarding():
            later = self.search(
                [
                    ("custom", "=", False),
                    ("user_consumed_ids", "not in", self.env.user.id),
                    ("name", "!=", ONBOARDING_TOUR),
                ],
                limit=1,
            )
            return bool(later) and later._get_tour_json()
        return tour

    @api.model
    def _ecrm_can_follow_onboarding(self):
        user = self.env.user
        return user.has_group("ecrm_addon.group_ecrm_manager") and user.has_group(
            "mass_mailing.group_mass_mailing_user"
        )
