from . import base_import_import
from . import base_partner_merge_automatic_wizard
from . import ecrm_case_answer_insert
