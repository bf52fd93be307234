# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from . import case_api
from . import portal
from . import portal_consent
from . import portal_preferences
from . import mass_mailing
from . import mass_mailing_response
