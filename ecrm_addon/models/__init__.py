from . import ecrm_demo
from . import res_company
from . import res_config_settings
