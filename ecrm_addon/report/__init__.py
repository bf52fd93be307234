# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from . import ecrm_case_report
from . import ecrm_pressure_report
from . import ecrm_response_report
