# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from . import test_case_form
from . import test_guest_checkout
from . import test_web_activity
from . import test_cart_offers
from . import test_cart_pressure
from . import test_tours
