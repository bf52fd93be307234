import { registry } from "@web/core/registry";

// A portal customer opens the preference centre from the portal home, turns marketing SMS
// off, allows two marketing emails a week, prefers SMS, asks for a topic and saves.
registry.category("web_tour.tours").add("ecrm_preference_centre_tour", {
    url: "/my",
    steps: () => [
        {
            content: "Open the preference centre from the portal home",
            trigger: 'a[href="/my/preferences"]',
            run: "click",
        },
        {
            content: "The page sits in the portal's breadcrumbs",
            trigger: ".o_portal_submenu .breadcrumb-item.active:contains('Preference Centre')",
        },
        {
            content: "Turn marketing SMS off",
            trigger: ".o_ecrm_preferences input[name='sms_on']:checked",
            run: "click",
        },
        {
            content: "At most two marketing emails a week",
            trigger: ".o_ecrm_preferences input[name='max_week_email']",
            run: "edit 2",
        },
        {
            content: "Prefer SMS",
            trigger: ".o_ecrm_preferences select[name='preferred_channel']",
            run: "select sms",
        },
        {
            content: "Ask for the Tour Topic",
            trigger: ".o_ecrm_preferences_topics label:contains('Tour Topic')",
            run: "click",
        },
        {
            content: "Save",
            trigger: ".o_ecrm_preferences_save",
            run: "click",
        },
        {
            content: "Saved",
            trigger: ".o_ecrm_preferences .alert-success:contains('Your preferences are saved.')",
        },
        {
            content: "The topic waits for the confirmation link",
            trigger: ".o_ecrm_preferences .alert-success:contains('We sent a link')",
        },
        {
            content: "The saved choices are shown",
            trigger: ".o_ecrm_preferences input[name='sms_on']:not(:checked)",
        },
    ],
});
