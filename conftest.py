"""pytest: import ecrm_addon.tools without running the addon's Odoo __init__."""

import pathlib
import sys
import types

_addon = pathlib.Path(__file__).parent / "ecrm_addon"
if "ecrm_addon" not in sys.modules:
    _package = types.ModuleType("ecrm_addon")
    _package.__path__ = [str(_addon)]
    sys.modules["ecrm_addon"] = _package
