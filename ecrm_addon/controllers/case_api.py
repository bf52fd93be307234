import json
import logging

from psycopg2 import IntegrityError

from odoo import http
from odoo.exceptions import AccessError, ValidationError
from odoo.http import request
from odoo.tools import html_sanitize, plaintext2html

from ..tools.case_payload import MAX_BODY_BYTES, PayloadError, parse_case_payload

# Longest Idempotency-Key header accepted (a UUID is 36)
MAX_REQUEST_KEY = 200

_logger = logging.getLogger(__name__)


class EcrmCaseApi(http.Controller):
    """``POST /ecrm/api/v1/cases``: cases from call centres, chatbots and other
    outside channels, authenticated by an Odoo API key (bearer token)."""

    def _json(self, status, payload, replayed=False):
        headers = [("Content-Type", "application/json")]
        if replayed:
            headers.append(("Idempotent-Replayed", "true"))
        return request.make_response(json.dumps(payload), headers=headers, status=status)

    def _api_user(self):
        header = request.httprequest.headers.get("Authorization", "")
        scheme, _sep, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return request.env["res.users.apikeys"]._check_credentials(scope="rpc", key=token.strip())

    def _refusal(self):
        """The error response for a request without a valid key, right or size; None when it may go on."""
        uid = self._api_user()
        if not uid:
            return self._json(401, {"error": "a valid API key is required as bearer token"})
        request.update_env(user=uid)
        if not request.env.user.has_group("ecrm_addon.group_ecrm_user") or not request.env["ecrm.case"].has_access(
            "create"
        ):
            return self._json(403, {"error": "this API key's user may not create cases"})
        length = request.httprequest.content_length
        if length is not None and length > MAX_BODY_BYTES:
            return self._json(413, {"error": "payload too large"})
        return None

    @http.route("/ecrm/api/v1/cases", type="http", auth="public", methods=["POST"], csrf=False, save_session=False)
    def create_case(self, **kw):
        refusal = self._refusal()
        if refusal:
            return refusal
        env = request.env
        raw = request.httprequest.get_data(cache=False)
        replayed = False
        try:
            if len(raw) > MAX_BODY_BYTES:
                raise PayloadError("payload too large", {"body": "too large"})
            request_key = self._request_key()
            # a retry of a request that created its case: the same case, not a second one
            case = env["ecrm.case"].search([("api_request_key", "=", request_key)], limit=1) if request_key else None
            if case:
                status, payload, replayed = 200, self._answer(case), True
            else:
                data = parse_case_payload(raw)
                with env.cr.savepoint():
                    case = self._create_case(env, data, request_key)
                status, payload = 201, self._answer(case)
        except PayloadError as error:
            status = 413 if error.fields.get("body") == "too large" else 400
            payload = {"error": error.message, "fields": error.fields}
        except AccessError:
            status, payload = 403, {"error": "this API key's user may not create cases"}
        except IntegrityError:
            # the same key in a request still being processed: its case exists once that one commits
            status, payload = 409, {"error": "a request with this Idempotency-Key is in progress; retry", "fields": {}}
        except ValidationError as error:
            status, payload = 400, {"error": str(error), "fields": {}}
        return self._json(status, payload, replayed=replayed)

    def _answer(self, case):
        return {"id": case.id, "reference": case.name, "partner_id": case.partner_id.id}

    def _request_key(self):
        """The client's ``Idempotency-Key`` header, prefixed with the key's user
        (two clients may pick the same key); None without one."""
        key = (request.httprequest.headers.get("Idempotency-Key") or "").strip()
        if not key:
            return None
        if len(key) > MAX_REQUEST_KEY:
            raise PayloadError("invalid fields", {"Idempotency-Key": f"at most {MAX_REQUEST_KEY} characters"})
        return f"{request.env.uid}:{key}"

    def _create_case(self, env, data, request_key=None):
        Case = env["ecrm.case"]
        partner = Case._ecrm_find_or_create_partner(
            email=data.get("email"), phone=data.get("phone"), name=data.get("name")
        )
        vals = {
            "subject": data["subject"],
            "description": html_sanitize(data["description"])
            if "<" in data.get("description", "")
            else plaintext2html(data.get("description", "")),
            "channel": data["channel"],
            "partner_id": partner.id,
            "company_id": env.company.id,
            "api_request_key": request_key or False,
        }
        if "priority" in data:
            vals["priority"] = data["priority"]
        if "category" in data:
            category = env["ecrm.case.category"].search([("name", "=ilike", data["category"])], limit=1)
            if not category:
                raise PayloadError("invalid fields", {"category": "unknown category"})
            vals["category_id"] = category.id
        if "order" in data:
            # sudo: the key's user may not read sales; the order must be the customer's own,
            # in the user's companies.
            order = (
                env["sale.order"]
                .sudo()
                .search(
                    [
                        ("name", "=", data["order"]),
                        ("partner_id", "child_of", partner.commercial_partner_id.id),
                        ("company_id", "in", env.user.company_ids.ids),
                    ],
                    limit=1,
                )
            )
            if not order:
                raise PayloadError("invalid fields", {"order": "no such order for this customer"})
            vals.update({"sale_order_id": order.id, "company_id": order.company_id.id})
        return Case.create(vals)
