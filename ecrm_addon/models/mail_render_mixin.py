# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models, tools

from .ir_qweb import CACHE_INLINE


class MailRenderMixin(models.AbstractModel):
    _inherit = "mail.render.mixin"

    @api.model
    def _has_unsafe_expression_template_qweb(self, template_src, model):
        # compiled by Odoo at each rendering to choose the renderer; once per source
        # and model under CACHE_INLINE (see ir_qweb.py): the answer depends on nothing else
        if self.env.context.get(CACHE_INLINE):
            return self._ecrm_has_unsafe_expression_template_qweb(template_src, model)
        return super()._has_unsafe_expression_template_qweb(template_src, model)

    @tools.ormcache("str(template_src)", "model", cache="templates")
    def _ecrm_has_unsafe_expression_template_qweb(self, template_src, model):
        return super()._has_unsafe_expression_template_qweb(template_src, model)
