from . import case_api
from . import portal
