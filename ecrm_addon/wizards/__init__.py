from . import base_import_import
from . import base_partner_merge_automatic_wizard
