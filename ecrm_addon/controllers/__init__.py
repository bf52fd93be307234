from . import case_api
from . import portal
from . import portal_consent
from . import mass_mailing
