/// The name of every `#[tauri::command]` in `src/commands.rs`: the one list the build step
/// (`build.rs`, which generates a permission per name) reads. The handler in
/// `commands::handler`, the grant in `capabilities/main.json`, the generated permissions,
/// `ui/src/api.ts` and `ui/IPC.md` each name them again; `commands::tests` fails on any drift,
/// naming the missing or extra command.
pub const COMMANDS: &[&str] = &[
    "get_overview",
    "sign_in_user",
    "cancel_sign_in",
    "sign_in_service_principal",
    "sign_in_managed_identity",
    "sign_in_azure_cli",
    "sign_out",
    "add_registry",
    "remove_registry",
    "set_admin_account",
    "refresh_now",
    "discover_registries",
    "check_registry",
    "doctor",
    "doctor_fix",
    "set_general",
    "preview_cloud",
    "set_cloud",
    "open_logs",
];
