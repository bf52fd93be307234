from . import test_base_models
from . import test_foundation
from . import test_odoo_mass_mailing
from . import test_pressure_engine
from . import test_pressure_mailing
from . import test_pressure_partner
