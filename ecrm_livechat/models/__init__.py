from . import discuss_channel
from . import ecrm_case
