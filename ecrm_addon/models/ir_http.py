# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from werkzeug.exceptions import RequestEntityTooLarge

from odoo import models
from odoo.http import request

from ..controllers.case_api import API_PATH, TOO_LARGE, json_response


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    @classmethod
    def _handle_error(cls, exception):
        """The case API answers a body over its limit in JSON, as its other
        errors, also when werkzeug refuses it before the controller runs (a
        ``Content-Length`` over the route's ``max_content_length``)."""
        if isinstance(exception, RequestEntityTooLarge) and request.httprequest.path == API_PATH:
            return json_response(413, TOO_LARGE)
        return super()._handle_error(exception)
