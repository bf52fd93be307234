# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from lxml import etree

from odoo import models, tools

# Context key: compile an inline QWeb source (a mail template's body) once per
# source and worker, as Odoo compiles templates stored as views, instead of at
# each rendering. Set by the customers' automatic emails (see ecrm_case_acknowledge.py).
CACHE_INLINE = "ecrm_qweb_cache_inline"


class IrQweb(models.AbstractModel):
    _inherit = "ir.qweb"

    def _compile(self, template):
        if not (isinstance(template, etree._Element) and self.env.context.get(CACHE_INLINE)):
            return super()._compile(template)
        # the source itself is the key (an edited template is another one), with
        # what else the compiled code depends on: the keys of Odoo's own cache and
        # the model whose forbidden expressions a restricted rendering refuses
        key = (
            etree.tostring(template),
            tuple(self.env.context.get(name) for name in self._get_template_cache_keys()),
            self.env.context.get("raise_on_forbidden_code_for_model"),
        )
        return self._ecrm_compile_inline(key, template)

    @tools.conditional(
        "xml" not in tools.config["dev_mode"],
        tools.ormcache("key", cache="templates"),
    )
    def _ecrm_compile_inline(self, key, template):
        return super()._compile(template)
