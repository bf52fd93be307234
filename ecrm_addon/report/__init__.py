from . import ecrm_pressure_report
