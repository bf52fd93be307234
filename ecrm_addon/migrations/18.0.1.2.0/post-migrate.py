"""18.0.1.2.0: the Cases Analysis and Contact Pressure reports are queries
evaluated with the ORM's clock (``_table_query``); their old SQL views go."""

from odoo.tools import SQL


def migrate(cr, version):
    cr.execute(SQL("DROP VIEW IF EXISTS ecrm_case_report, ecrm_pressure_report"))
