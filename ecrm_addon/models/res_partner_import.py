# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Contact import: rows whose email, phone or tax ID is an existing customer's land on that customer."""

from markupsafe import Markup

from odoo import Command, api, models, tools
from odoo.osv import expression

from ..tools.identity import KEY_FIELDS, KEY_SOURCES, identity_keys
from .res_partner_identity import email_key

# Fields an import never fills on the existing customer a row matched: empty
# means "shared by every company" / "an individual", not "unknown".
IMPORT_KEEP_FIELDS = ("company_id", "parent_id")
# Matched rows named one by one in the import message; the rest are counted.
IMPORT_MESSAGE_ROWS = 20


class EcrmImportMatches:
    """Rows of one ``load()`` that landed on existing partners, collected by
    ``_load_records`` (passed in the context, as Odoo passes ``import_flush``)."""

    def __init__(self):
        self.rows = []


class ResPartner(models.Model):
    _inherit = "res.partner"

    @api.model
    def name_create(self, name):
        """Import of any model with a partner column ("Create if not found"):
        a value carrying an email lands on the partner with that email key
        instead of creating a second one. Other callers keep Odoo's behaviour."""
        context = self.env.context
        if name and (context.get("import_file") or context.get("name_create_enabled_fields")):
            _name, normalized = tools.parse_contact_from_email(name)
            if normalized:
                found = self._ecrm_match_candidates(email=normalized)[:1]
                if found:
                    return found.id, found.display_name
        return super().name_create(name)

    @api.model
    def load(self, fields, data):
        """Import (Odoo's import dialog, ``load`` over RPC): a row without an id
        or external id whose email, phone or tax ID is an existing customer's
        lands on that customer (see ``_load_records``), and the result's
        messages say which rows did."""
        if self.env.context.get("ecrm_import_matches") is not None or self.env.context.get("module"):
            # nested, or a module's data file: records as written
            return super().load(fields, data)
        matches = EcrmImportMatches()
        result = super(ResPartner, self.with_context(ecrm_import_matches=matches)).load(fields, data)
        if result.get("ids") and matches.rows:
            result["messages"].append(self._ecrm_import_message(matches.rows))
        return result

    def _load_records(self, data_list, update=False, ignore_duplicates=False):
        matches = self.env.context.get("ecrm_import_matches")
        found = self._ecrm_import_match(data_list) if matches is not None and not update else {}
        if not found:
            return super()._load_records(data_list, update=update, ignore_duplicates=ignore_duplicates)
        # new dicts: when the batch fails, load() retries row by row with the originals
        data_list = [dict(data) for data in data_list]
        taken = {}
        for index, (partner, _keys, conflicts) in found.items():
            data = data_list[index]
            # an identifier of the row that is another customer's is not copied
            # onto this one: that would tie the two customers together
            skip = {value_field for fname in conflicts for value_field in KEY_SOURCES[fname]}
            fill = partner._ecrm_import_fill(data["values"], taken.setdefault(partner.id, set()) | skip)
            taken[partner.id].update(fill)
            data["ecrm_row"] = data["values"].get("name") or data["values"].get("email") or ""
            data["values"] = dict(fill, id=partner.id)
            data["ecrm_filled"] = fill
        records = super()._load_records(data_list, update=update, ignore_duplicates=ignore_duplicates)
        rows = [(data_list[index], partner, keys) for index, (partner, keys, _conflicts) in found.items()]
        matches.rows.extend(rows)
        self._ecrm_import_log(rows)
        return records

    def _ecrm_import_match(self, data_list):
        """{index in data_list: (partner, key fields it matched, key fields that
        matched other partners only)} for the rows to create (no id, no external
        id) whose email, phone or tax ID is the key of an existing partner of the
        row's company or shared: the one carrying most of the row's keys, then the
        best ranked (as ``_ecrm_match_candidates``). One search for the batch."""
        rows = {}
        countries = {}
        for index, data in enumerate(data_list):
            values = data["values"]
            if not data.get("xml_id") and not values.get("id"):
                keys = self._ecrm_import_keys(values, countries)
                if keys:
                    rows[index] = keys
        by_key = self._ecrm_import_candidates(rows.values())
        found = {}
        for index, keys in rows.items():
            values = data_list[index]["values"]
            company_id = values.get("company_id")
            # contacts of one company share its switchboard and its tax ID: a new
            # contact of that company is found by its email only
            parent = self.browse(values["parent_id"]) if isinstance(values.get("parent_id"), int) else self.browse()
            own_customer = parent.commercial_partner_id
            matched = {}
            for fname, key in keys.items():
                for rank, partner in by_key.get((fname, key), ()):
                    other_company = company_id and partner.company_id.id not in (False, company_id)
                    shared_key = fname != "ecrm_email_key" and partner.commercial_partner_id == own_customer
                    if not other_company and not shared_key:
                        matched.setdefault((rank, partner), []).append(fname)
            if matched:
                # the partner carrying most of the row's keys, then the best ranked
                best = min(matched, key=lambda ranked: (-len(matched[ranked]), ranked[0]))
                conflicts = {fname for fnames in matched.values() for fname in fnames} - set(matched[best])
                found[index] = (best[1], matched[best], conflicts)
        return found

    @api.model
    def _ecrm_import_candidates(self, row_keys):
        """{(key field, key): [(rank, partner)]} of the existing partners carrying
        one of the keys of ``row_keys``, ranked as ``_ecrm_ranked`` does."""
        row_keys = list(row_keys)
        domains = [
            [(fname, "in", list({keys[fname] for keys in row_keys if fname in keys}))]
            for fname in KEY_FIELDS
            if any(fname in keys for keys in row_keys)
        ]
        if not domains:
            return {}
        candidates = self.search_fetch(
            expression.OR(domains), ["commercial_partner_id", "write_date", "company_id", *KEY_FIELDS]
        )
        commercials = candidates.commercial_partner_id
        ranked = candidates._ecrm_ranked(commercials._ecrm_last_activity() if len(commercials) > 1 else {})
        by_key = {}
        for rank, partner in enumerate(ranked):
            for fname in KEY_FIELDS:
                if partner[fname]:
                    by_key.setdefault((fname, partner[fname]), []).append((rank, partner))
        return by_key

    @api.model
    def _ecrm_import_keys(self, values, countries):
        """The identity keys of an imported row, computed as they would be on
        the partner it creates (phone read in the row's country, else its
        parent's, else its company's, else the current company's)."""
        country = values.get("country_id")
        if not country and isinstance(values.get("parent_id"), int):
            country = self.browse(values["parent_id"]).country_id.id
        if not country and isinstance(values.get("company_id"), int):
            country = self.env["res.company"].browse(values["company_id"]).country_id.id
        if country not in countries:
            countries[country] = (
                self.env["res.country"].browse(country).code if country else self.env.company.country_id.code
            )
        return identity_keys(
            email_key,
            email=values.get("email"),
            phones=(values.get("phone"), values.get("mobile")),
            vat=values.get("vat"),
            region=countries[country],
        )

    def _ecrm_import_fill(self, values, taken=()):
        """The imported ``values`` that go into this existing partner: only
        fields it leaves empty (typed data is never overwritten), never a
        field an earlier row of the import already filled. Tags and contacts
        are added, never removed; booleans, the company and the parent company
        stay as they are (changing them would change who sees or owns the
        customer)."""
        self.ensure_one()
        fill = {}
        for fname, value in values.items():
            field = self._fields.get(fname)
            if (
                field
                and fname not in taken
                and fname not in IMPORT_KEEP_FIELDS
                and field.type not in ("boolean", "properties", "properties_definition")
            ):
                fill_value = self._ecrm_import_fill_value(field, value)
                if fill_value:
                    fill[fname] = fill_value
        return fill

    def _ecrm_import_fill_value(self, field, value):
        """What an imported ``value`` puts into ``field`` of this partner; None for nothing."""
        current = self[field.name]
        if field.type == "many2many":
            if not current:
                return value
            ids = [i for command in value if command[0] == Command.SET for i in command[2]]
            ids += [command[1] for command in value if command[0] == Command.LINK]
            return [Command.link(i) for i in dict.fromkeys(ids) if i not in current.ids] or None
        if field.type == "one2many":
            return [command for command in value if command[0] in (Command.CREATE, Command.LINK)] or None
        if field.type == "html":
            return value if tools.is_html_empty(current) and not tools.is_html_empty(value) else None
        return value if not current and value not in (None, False, "") else None

    def _ecrm_import_log(self, rows):
        """A note on each partner an import landed on: who, when, which fields it filled."""
        bodies = {}
        for data, partner, _keys in rows:
            filled = data.get("ecrm_filled") or {}
            labels = ", ".join(self._fields[fname]._description_string(self.env) for fname in filled)
            user = self.env.user.name
            line = (
                self.env._("Matched by an import of contacts (%(user)s): filled %(fields)s.", user=user, fields=labels)
                if labels
                else self.env._("Matched by an import of contacts (%(user)s): nothing to fill.", user=user)
            )
            bodies.setdefault(partner.id, []).append(line)
        if bodies:
            partners = self.browse(list(bodies))
            # the importing user may write these partners (checked by the write above)
            partners._message_log_batch(bodies={pid: Markup("<br/>").join(lines) for pid, lines in bodies.items()})

    @api.model
    def _ecrm_import_message(self, rows):
        """The import message listing the rows that landed on existing customers."""
        labels = {
            "ecrm_email_key": self.env._("email"),
            "ecrm_phone_key": self.env._("phone"),
            "ecrm_vat_key": self.env._("tax ID"),
        }
        lines = [
            self.env._(
                "%(row)s → %(partner)s (#%(id)s, same %(keys)s)",
                row=data["ecrm_row"] or partner.display_name,
                partner=partner.display_name,
                id=partner.id,
                keys=", ".join(labels[fname] for fname in keys),
            )
            for data, partner, keys in rows[:IMPORT_MESSAGE_ROWS]
        ]
        if len(rows) > IMPORT_MESSAGE_ROWS:
            lines.append(self.env._("and %(count)s more", count=len(rows) - IMPORT_MESSAGE_ROWS))
        return {
            "type": "info",
            "ecrm_match": True,
            "message": self.env._(
                "Rows matched to existing customers by email, phone or tax ID: %(count)s. They were not "
                "created; they fill the customer's empty fields and overwrite nothing typed. %(rows)s.",
                count=len(rows),
                rows="; ".join(lines),
            ),
        }
