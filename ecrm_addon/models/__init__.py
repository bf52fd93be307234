from . import ecrm_case_document_mixin  # isort: skip (inherited by account_move, sale_order, stock_picking)
from . import account_move
from . import ecrm_case
from . import ecrm_case_category
from . import ecrm_case_escalation
from . import ecrm_case_stage
from . import ecrm_demo
from . import ecrm_escalation_level
from . import ecrm_escalation_policy
from . import ecrm_interaction
from . import ecrm_rfm_score
from . import ecrm_rfm_segment
from . import res_company
from . import res_config_settings
from . import res_partner
from . import sale_order
from . import stock_picking
