// Copyright 2026 ecrm_addon contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import { markup } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";

// The first five minutes of an e-CRM manager: the Overview, a customer's 360,
// an overdue case, a segment and the contact-pressure check of a mailing to it.
// Offered once through Odoo's onboarding (record ecrm_addon.ecrm_onboarding_tour):
// in that manual mode only the steps with a `run` are shown, each one waits for
// the user's click. The steps lean on menus, the Overview's tiles and the first
// record of a list, never on a record's name, so that any shop's data will do.
// Records of the view just opened, not the Overview's own tiles (a kanban too).
const FIRST_CARD = ".o_kanban_view:not(.o_ecrm_dashboard) .o_kanban_record:not(.o_kanban_ghost)";

registry.category("web_tour.tours").add("ecrm_onboarding_tour", {
    url: "/odoo",
    steps: () => [
        {
            isActive: ["community", "desktop"],
            trigger: ".o_navbar_apps_menu button:enabled",
            content: markup(_t("Welcome! Five minutes to see what the <b>e-CRM</b> does. Open the apps menu.")),
            tooltipPosition: "bottom",
            run: "click",
        },
        {
            trigger: '.o_app[data-menu-xmlid="ecrm_addon.ecrm_menu_root"]',
            content: markup(_t("Open the <b>e-CRM</b> app.")),
            tooltipPosition: "right",
            run: "click",
        },
        {
            trigger: '.o_ecrm_dashboard .o_ecrm_tile_rfm a[name="action_open_customers"]',
            content: markup(
                _t(
                    "The <b>Overview</b> sums up cases, segments, duplicates and mailings; every figure opens its list. Open the customers."
                )
            ),
            tooltipPosition: "bottom",
            run: "click",
        },
        {
            trigger: FIRST_CARD,
            content: _t("One profile per customer, whatever the channel they came by. Open one."),
            tooltipPosition: "bottom",
            run: "click",
        },
        {
            trigger: '.o_form_view .o_notebook .nav-link[name="ecrm"]',
            content: markup(
                _t(
                    "The <b>e-CRM</b> page is the customer's 360 view: sales, open orders, deliveries, unpaid invoices, RFM segment, timeline and consent."
                )
            ),
            tooltipPosition: "top",
            run: "click",
        },
        {
            content: "The customer 360 is shown",
            trigger: '.o_form_view .o_notebook .nav-link.active[name="ecrm"]',
        },
        {
            trigger: '.o_main_navbar [data-menu-xmlid="ecrm_addon.ecrm_dashboard_menu"]',
            content: markup(_t("Back to the <b>Overview</b>.")),
            tooltipPosition: "bottom",
            run: "click",
        },
        {
            trigger: '.o_ecrm_dashboard .o_ecrm_tile_cases a[name="action_open_overdue_cases"]',
            content: markup(
                _t(
                    "<b>Overdue</b> cases have passed a deadline of their SLA policy and escalate on their own. Open them."
                )
            ),
            tooltipPosition: "bottom",
            run: "click",
        },
        {
            trigger: FIRST_CARD,
            content: _t("Open the first overdue case."),
            tooltipPosition: "bottom",
            run: "click",
        },
        {
            trigger: '.o_form_view .o_notebook .nav-link[name="sla"]',
            content: markup(
                _t(
                    "The <b>SLA</b> page shows the response and resolution deadlines and the escalation levels that already fired."
                )
            ),
            tooltipPosition: "top",
            run: "click",
        },
        {
            content: "The deadlines of the case are shown",
            trigger: '.o_form_view .o_field_widget[name="resolution_deadline"]',
        },
        {
            trigger: '.o_main_navbar [data-menu-xmlid="ecrm_addon.ecrm_menu_config"]',
            content: markup(
                _t(
                    "Customers fall into <b>RFM segments</b> by the recency, frequency and amount of their purchases. Open the Configuration."
                )
            ),
            tooltipPosition: "bottom",
            run: "click",
        },
        {
            trigger: '.o-dropdown--menu [data-menu-xmlid="ecrm_addon.ecrm_rfm_segment_menu"]',
            content: markup(_t("Open the <b>RFM Segments</b>.")),
            tooltipPosition: "right",
            run: "click",
        },
        {
            // the first segment that has customers (its count holds a digit other than 0)
            trigger: '.o_list_renderer .o_data_row:has(td[name="customer_count"]:contains(/[1-9]/)) td[name="name"]',
            content: _t("Open a segment that has customers."),
            tooltipPosition: "bottom",
            run: "click",
        },
        {
            trigger: '.o_form_view button[name="action_send_mailing"]',
            content: markup(_t("<b>Send to this segment</b> prepares a mailing to its customers.")),
            tooltipPosition: "bottom",
            run: "click",
        },
        {
            content: "The mailing editor is ready",
            trigger: '.o_form_view [name="body_arch"] :iframe .o_mail_theme_selector_new',
            // the editor's assets load on first use: on a fresh server that takes more than 10 s
            timeout: 30000,
        },
        {
            trigger: '.o_form_view button[name="action_ecrm_pressure_simulate"]',
            content: markup(
                _t(
                    "Before sending, <b>check the contact pressure</b>: how many recipients the pressure rules would exclude or defer."
                )
            ),
            tooltipPosition: "bottom",
            run: "click",
        },
        {
            content: "Every recipient of the segment is checked",
            trigger: '.modal .o_field_widget[name="checked_count"]:contains(/[1-9]/)',
        },
        {
            trigger: ".modal .modal-footer button.btn-primary",
            content: markup(
                _t(
                    "Recipients checked, excluded and deferred, per rule. The mailing stays a draft until you send it: close the check."
                )
            ),
            tooltipPosition: "top",
            run: "click",
        },
        {
            content: "The check is closed",
            trigger: "body:not(:has(.modal))",
        },
    ],
});
