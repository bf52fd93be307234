from . import ecrm_case_report
