# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Print Odoo's requirements.txt resolved for this machine.

Odoo 18.0 pins versions per Python release; the pins it gives for Python 3.12
are the ones that build on the Pythons of this project's machines (3.11 and
up), so they are used for every Python >= 3.11. python-ldap is left out: the
addon does not use LDAP and it needs system headers to build.
"""

import sys

from pip._vendor.packaging.requirements import Requirement

SKIP = {"python-ldap", "pypiwin32", "rl-renderpm"}


def main(path):
    env = {
        "python_version": "3.12",
        "python_full_version": "3.12.0",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "os_name": "posix",
    }
    with open(path, encoding="utf-8") as lines:
        specs = [line.split("#")[0].strip() for line in lines]
    for spec in specs:
        if not spec:
            continue
        req = Requirement(spec)
        if req.name.lower() in SKIP:
            continue
        if req.marker and not req.marker.evaluate(env):
            continue
        req.marker = None
        print(req)


if __name__ == "__main__":
    main(sys.argv[1])
