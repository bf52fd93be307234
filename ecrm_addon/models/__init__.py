from . import ecrm_demo
from . import ecrm_interaction
from . import ecrm_pressure_rule
from . import ecrm_rfm_score
from . import ecrm_rfm_segment
from . import res_company
from . import res_config_settings
from . import res_partner
