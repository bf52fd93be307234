# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from . import ecrm_duplicate_group
from . import ecrm_interaction
from . import ecrm_web_form_rate
from . import mail_template
from . import res_company
from . import res_config_settings
from . import res_partner
from . import res_users
from . import sale_order
from . import website
