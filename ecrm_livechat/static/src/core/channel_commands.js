import {_t} from "@web/core/l10n/translation";
import {registry} from "@web/core/registry";

registry.category("discuss.channel_commands").add("case", {
    channel_types: ["livechat"],
    help: _t("Open an e-CRM case from this conversation (/case subject [visitor's email])"),
    methodName: "execute_command_case",
});
