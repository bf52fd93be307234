# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json
import logging

from psycopg2 import IntegrityError

from odoo import http
from odoo.exceptions import AccessError, UserError
from odoo.http import request
from odoo.tools import html_sanitize, plaintext2html

from ..tools.case_payload import MAX_BODY_BYTES, PayloadError, parse_case_payload

API_PATH = "/ecrm/api/v1/cases"
# Longest Idempotency-Key header accepted (a UUID is 36)
MAX_REQUEST_KEY = 200
TOO_LARGE = {"error": "payload too large", "fields": {"body": "too large"}}

_logger = logging.getLogger(__name__)


def json_response(status, payload, headers=None):
    """The API's answer: ``payload`` as JSON, with ``status``."""
    return request.make_response(
        json.dumps(payload), headers=[("Content-Type", "application/json"), *(headers or [])], status=status
    )


class EcrmCaseApi(http.Controller):
    """``POST /ecrm/api/v1/cases``: cases from call centres, chatbots and other
    outside channels, authenticated by an Odoo API key (bearer token)."""

    def _json(self, status, payload, replayed=False):
        return json_response(status, payload, [("Idempotent-Replayed", "true")] if replayed else None)

    def _api_user(self):
        header = request.httprequest.headers.get("Authorization", "")
        scheme, _sep, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return request.env["res.users.apikeys"]._check_credentials(scope="rpc", key=token.strip())

    def _refusal(self):
        """The error response for a request without a valid key, over its rate,
        without the right or too large; None when it may go on."""
        uid = self._api_user()
        if not uid:
            return self._json(401, {"error": "a valid API key is required as bearer token"})
        retry_after = request.env["ecrm.api.rate"]._ecrm_throttle(uid)
        if retry_after:
            return json_response(429, {"error": "too many requests"}, [("Retry-After", str(retry_after))])
        request.update_env(user=uid)
        if not request.env.user.has_group("ecrm_addon.group_ecrm_user") or not request.env["ecrm.case"].has_access(
            "create"
        ):
            return self._json(403, {"error": "this API key's user may not create cases"})
        length = request.httprequest.content_length
        if length is not None and length > MAX_BODY_BYTES:
            return self._json(413, TOO_LARGE)
        return None

    def _read_body(self):
        """The request body; :class:`PayloadError` above ``MAX_BODY_BYTES``.

        A chunked body has no length to check first: the route's
        ``max_content_length`` bounds werkzeug's stream at one byte more than
        the limit, so that byte is read, never the rest."""
        # cached on the request: after a serialization failure Odoo runs the
        # request again (``odoo.service.model.retrying``), and the stream is spent
        raw = request.httprequest.get_data(cache=True)
        if len(raw) > MAX_BODY_BYTES:
            raise PayloadError(TOO_LARGE["error"], TOO_LARGE["fields"])
        return raw

    @http.route(
        API_PATH,
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,
        save_session=False,
        # one byte over the limit: a chunked body of exactly the limit is told from a longer one
        max_content_length=MAX_BODY_BYTES + 1,
    )
    def create_case(self, **kw):
        refusal = self._refusal()
        if refusal:
            return refusal
        env = request.env
        replayed = False
        try:
            raw = self._read_body()
            request_key = self._request_key()
            # a retry of a request that created its case: the same case, not a second one
            case = env["ecrm.case"].search([("api_request_key", "=", request_key)], limit=1) if request_key else None
            if case:
                status, payload, replayed = 200, self._answer(case), True
            else:
                fields = env["ecrm.case"]._fields
                data = parse_case_payload(raw, fields["channel"].get_values(env), fields["priority"].get_values(env))
                with env.cr.savepoint():
                    case = self._create_case(env, data, request_key)
                status, payload = 201, self._answer(case)
        except PayloadError as error:
            status = 413 if error.fields == TOO_LARGE["fields"] else 400
            payload = {"error": error.message, "fields": error.fields}
        except AccessError:
            status, payload = 403, {"error": "this API key's user may not create cases"}
        except IntegrityError:
            # the same key in a request still being processed: its case exists once that one commits
            status, payload = 409, {"error": "a request with this Idempotency-Key is in progress; retry", "fields": {}}
        except UserError as error:
            # a constraint of the case or its customer: its message names records, it stays in the log
            _logger.info("Case API request of user %s refused: %s", env.uid, error)
            status, payload = 400, {"error": "the case could not be created from these fields", "fields": {}}
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
            "acknowledge": data.get("acknowledge", True),
        }
        if "priority" in data:
            vals["priority"] = data["priority"]
        if "category" in data:
            category = env["ecrm.case.category"].search([("name", "=ilike", data["category"])], limit=1)
            if not category:
                raise PayloadError("invalid fields", {"category": "unknown category"})
            vals["category_id"] = category.id
        if "order" in data:
            # sudo: the key's user may not read sales; the order must be the customer's own
            # (the case's rule: same commercial partner), in the user's companies. Any other
            # order gets the answer of an order that does not exist.
            order = (
                env["sale.order"]
                .sudo()
                .search(
                    [
                        ("name", "=", data["order"]),
                        ("partner_id.commercial_partner_id", "=", partner.commercial_partner_id.id),
                        ("company_id", "in", env.user.company_ids.ids),
                    ],
                    limit=1,
                )
            )
            if not order:
                raise PayloadError("invalid fields", {"order": "no such order for this customer"})
            vals.update({"sale_order_id": order.id, "company_id": order.company_id.id})
        return Case.create(vals)
