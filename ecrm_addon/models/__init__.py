from . import ecrm_demo
from . import ecrm_interaction
from . import ecrm_rfm_score
from . import ecrm_rfm_segment
from . import ecrm_rfm_snapshot
from . import res_company
from . import res_config_settings
from . import res_partner
