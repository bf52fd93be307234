# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from . import controllers
from . import models
from . import report
from . import wizards


def uninstall_hook(env):
    """Drop what the RFM engine created outside the ORM (its log table and the
    triggers on invoices, orders and contacts) and the customer value's tables."""
    env["ecrm.rfm.score"]._rfm_uninstall_triggers()
    env["ecrm.clv.score"]._clv_uninstall_tables()
