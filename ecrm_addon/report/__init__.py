from . import ecrm_case_report
from . import ecrm_pressure_report
