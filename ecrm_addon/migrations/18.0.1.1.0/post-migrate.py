"""18.0.1.1.0: the first case stage is "Received" (it was "New", the same term
as the RFM segment, so both got one Spanish word). The stage is data loaded
once (noupdate): renamed here, only where nobody renamed it since."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    stage = env.ref("ecrm_addon.ecrm_case_stage_new", raise_if_not_found=False)
    if not stage or stage.with_context(lang="en_US").name != "New":
        return
    names = {"en_US": "Received"}
    if env["res.lang"]._lang_get("es_ES"):
        names["es_ES"] = "Recibido"
    stage.update_field_translations("name", names)
