from . import test_base_models
from . import test_case_escalation
from . import test_case_http
from . import test_case_intake
from . import test_case_late_delivery
from . import test_case_reports
from . import test_case_sla
from . import test_foundation
