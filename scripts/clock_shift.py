# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Run Odoo's command line with the wall clock moved: ``clock_shift.py +400d ARGS...``.

The date moves (``time.time``, ``datetime.now``, ``date.today``: time-machine,
ticking), the monotonic clock stays real, so timeouts and timed waits still
measure real durations. libfaketime was tried first: in this Python its
interception of timed waits hangs ``Event.wait`` or fails ``time.sleep``.
"""

import datetime
import re
import sys

import time_machine

UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def offset(text):
    """A ``timedelta`` from ``+400d``, ``-3h``, ``90m``."""
    match = re.fullmatch(r"([+-]?\d+)([dhm])", text.strip())
    if not match:
        raise SystemExit(f"clock_shift: offset {text!r} is not like +400d, -3h or 90m")
    return datetime.timedelta(**{UNITS[match[2]]: int(match[1])})


def main():
    shifted = datetime.datetime.now(datetime.timezone.utc) + offset(sys.argv[1])
    time_machine.travel(shifted, tick=True).start()
    sys.argv = ["odoo", *sys.argv[2:]]
    import odoo.cli  # imported once the clock has moved

    odoo.cli.main()


if __name__ == "__main__":
    main()
