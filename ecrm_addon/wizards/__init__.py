# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from . import base_import_import
from . import base_partner_merge_automatic_wizard
from . import ecrm_case_answer_insert
