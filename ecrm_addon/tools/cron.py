# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What every cron of the addon shares and that needs no ORM."""

import threading


def auto_commit():
    """Whether a cron may commit between its slices: never inside a test's
    transaction (Odoo marks the thread running the tests ``testing``), always
    in a cron worker or another thread with its own cursor."""
    return not getattr(threading.current_thread(), "testing", False)
