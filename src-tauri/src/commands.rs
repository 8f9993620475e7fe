//! The settings window's commands: each a line or two over the engine's
//! [`Service`](acr_tray_engine::service::Service). They reject with an
//! [`ErrorView`] (`{code, message, hint}`); none returns a secret.

use acr_tray_engine::service::ViewResult;
use acr_tray_engine::service::view::{
    AccountView, AddRegistry, CheckReport, CloudChangePreview, CloudInput, CloudView, Discovery,
    DoctorView, ErrorView, GeneralSettings, Overview, RefreshOutcomeView, RegistryView,
    ServicePrincipalSignIn, UserSignIn,
};
use tauri::{AppHandle, Emitter, Runtime, State};

use crate::AppState;

/// The handler of every command, for `Builder::invoke_handler`.
pub fn handler<R: Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        get_overview,
        sign_in_user,
        cancel_sign_in,
        sign_in_service_principal,
        sign_in_managed_identity,
        sign_in_azure_cli,
        sign_out,
        add_registry,
        remove_registry,
        set_admin_account,
        refresh_now,
        discover_registries,
        check_registry,
        doctor,
        doctor_fix,
        set_general,
        preview_cloud,
        set_cloud,
        open_logs,
    ]
}

#[tauri::command]
fn get_overview(state: State<'_, AppState>) -> Overview {
    state.service.overview().borrow().clone()
}

/// Resolves when the sign-in completes; a device code goes to the window as `device-code`.
#[tauri::command]
async fn sign_in_user<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    request: UserSignIn,
) -> ViewResult<AccountView> {
    let on_code = Box::new(move |prompt| {
        if let Err(e) = app.emit_to("main", "device-code", &prompt) {
            tracing::warn!(error = %e, "the device code did not reach the window");
        }
    });
    state.service.sign_in_user(request, on_code).await
}

#[tauri::command]
fn cancel_sign_in(state: State<'_, AppState>) {
    state.service.cancel_sign_in();
}

#[tauri::command]
async fn sign_in_service_principal(
    state: State<'_, AppState>,
    request: ServicePrincipalSignIn,
) -> ViewResult<AccountView> {
    state.service.sign_in_service_principal(request).await
}

#[tauri::command]
async fn sign_in_managed_identity(
    state: State<'_, AppState>,
    client_id: Option<String>,
) -> ViewResult<AccountView> {
    state.service.sign_in_managed_identity(client_id).await
}

#[tauri::command]
async fn sign_in_azure_cli(
    state: State<'_, AppState>,
    tenant: Option<String>,
) -> ViewResult<AccountView> {
    state.service.sign_in_azure_cli(tenant).await
}

#[tauri::command]
fn sign_out(state: State<'_, AppState>, identity: String) -> ViewResult<()> {
    state.service.sign_out(&identity)
}

#[tauri::command]
async fn add_registry(
    state: State<'_, AppState>,
    request: AddRegistry,
) -> ViewResult<RegistryView> {
    state.service.add_registry(request).await
}

#[tauri::command]
fn remove_registry(state: State<'_, AppState>, name: String) -> ViewResult<()> {
    state.service.remove_registry(&name)
}

#[tauri::command]
async fn set_admin_account(
    state: State<'_, AppState>,
    name: String,
    enabled: bool,
) -> ViewResult<()> {
    state.service.set_admin_account(&name, enabled).await
}

#[tauri::command]
async fn refresh_now(
    state: State<'_, AppState>,
    names: Vec<String>,
) -> ViewResult<Vec<RefreshOutcomeView>> {
    state.service.refresh_now(names).await
}

#[tauri::command]
async fn discover_registries(
    state: State<'_, AppState>,
    identity: String,
) -> ViewResult<Discovery> {
    state.service.discover_registries(&identity).await
}

/// The credential Docker holds for a registry, used as Docker would (the registries page's
/// "Check"); `repository` asks what is granted there.
#[tauri::command]
async fn check_registry(
    state: State<'_, AppState>,
    name: String,
    repository: Option<String>,
) -> ViewResult<CheckReport> {
    state.service.check_registry(&name, repository).await
}

#[tauri::command]
fn doctor(state: State<'_, AppState>) -> ViewResult<DoctorView> {
    state.service.doctor()
}

#[tauri::command]
async fn doctor_fix(state: State<'_, AppState>) -> ViewResult<DoctorView> {
    state.service.doctor_fix().await
}

#[tauri::command]
fn set_general(
    state: State<'_, AppState>,
    general: GeneralSettings,
) -> ViewResult<GeneralSettings> {
    state.service.set_general(general)
}

#[tauri::command]
fn preview_cloud(state: State<'_, AppState>, cloud: CloudInput) -> ViewResult<CloudChangePreview> {
    state.service.preview_cloud(cloud)
}

#[tauri::command]
fn set_cloud(state: State<'_, AppState>, cloud: CloudInput) -> ViewResult<CloudView> {
    state.service.set_cloud(cloud)
}

/// Opens the log folder in the file manager.
#[tauri::command]
fn open_logs(state: State<'_, AppState>) -> ViewResult<()> {
    let dir = state.service.log_dir()?;
    crate::window::open_folder(&dir).map_err(|e| ErrorView {
        code: acr_tray_engine::service::view::ErrorCode::Config,
        message: format!("cannot open {}: {e}", dir.display()),
        hint: Some("open the folder yourself".to_owned()),
        at: None,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use crate::command_names::COMMANDS;

    /// How `found` differs from [`COMMANDS`], in words; `None` when it names exactly them.
    fn drift(place: &str, found: &[String]) -> Option<String> {
        let want: BTreeSet<&str> = COMMANDS.iter().copied().collect();
        let have: BTreeSet<&str> = found.iter().map(String::as_str).collect();
        let missing: Vec<&str> = want.difference(&have).copied().collect();
        let extra: Vec<&str> = have.difference(&want).copied().collect();
        let mut twice: Vec<&str> = have
            .iter()
            .copied()
            .filter(|name| found.iter().filter(|f| f == name).count() > 1)
            .collect();
        twice.dedup();
        if missing.is_empty() && extra.is_empty() && twice.is_empty() {
            return None;
        }
        Some(format!(
            "{place}: missing {missing:?}, not in src/command_names.rs {extra:?}, listed twice {twice:?}"
        ))
    }

    fn read(relative: &str) -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
    }

    /// This file without its tests.
    fn source() -> &'static str {
        let all = include_str!("commands.rs");
        all.split("#[cfg(test)]").next().unwrap_or(all)
    }

    /// The functions marked `#[tauri::command]`.
    fn command_functions(source: &str) -> Vec<String> {
        let mut names = Vec::new();
        let mut marked = false;
        for line in source.lines().map(str::trim) {
            if line == "#[tauri::command]" {
                marked = true;
            } else if marked && let Some(at) = line.find("fn ") {
                let rest = &line[at + 3..];
                let end = rest
                    .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len());
                names.push(rest[..end].to_owned());
                marked = false;
            }
        }
        names
    }

    /// The names in `tauri::generate_handler![…]`.
    fn handler_names(source: &str) -> Vec<String> {
        let start = source
            .find("tauri::generate_handler![")
            .map(|at| at + "tauri::generate_handler![".len())
            .unwrap_or(source.len());
        let list = &source[start..];
        let list = &list[..list.find(']').unwrap_or(list.len())];
        list.split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// The app's own permissions granted in a capability file (`allow-sign-in-user` is
    /// `sign_in_user`'s).
    fn granted(capability: &str) -> Vec<String> {
        let json: serde_json::Value = serde_json::from_str(capability).unwrap_or_default();
        json["permissions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p.as_str()?.strip_prefix("allow-"))
            .map(|p| p.replace('-', "_"))
            .collect()
    }

    /// The command names `invoke`d in `ui/src/api.ts` (`invoke<T>("name", …)`).
    fn invoked(api: &str) -> Vec<String> {
        api.match_indices("invoke")
            .filter(|(at, _)| matches!(api[at + "invoke".len()..].chars().next(), Some('<' | '(')))
            .filter_map(|(at, _)| {
                let rest = &api[at..];
                let name = &rest[rest.find("(\"")? + 2..];
                Some(name[..name.find('"')?].to_owned())
            })
            .collect()
    }

    /// The commands in `ui/IPC.md`'s table (rows beginning with a name in backticks).
    fn documented(ipc: &str) -> Vec<String> {
        ipc.lines()
            .filter_map(|line| line.strip_prefix("| `"))
            .filter_map(|row| Some(row[..row.find('`')?].to_owned()))
            .collect()
    }

    #[test]
    fn every_place_names_the_same_commands() {
        let permissions: Vec<String> = std::fs::read_dir(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("permissions/autogenerated"),
        )
        .map(|dir| {
            dir.filter_map(|e| {
                let path = e.ok()?.path();
                (path.extension()? == "toml").then_some(path.file_stem()?.to_str()?.to_owned())
            })
            .collect()
        })
        .unwrap_or_default();
        let places = [
            (
                "#[tauri::command] fns in src/commands.rs",
                command_functions(source()),
            ),
            (
                "generate_handler! in src/commands.rs",
                handler_names(source()),
            ),
            (
                "capabilities/main.json",
                granted(&read("capabilities/main.json")),
            ),
            (
                "permissions/autogenerated (written by build.rs)",
                permissions,
            ),
            ("ui/src/api.ts", invoked(&read("../ui/src/api.ts"))),
            ("ui/IPC.md", documented(&read("../ui/IPC.md"))),
        ];
        let drifts: Vec<String> = places
            .iter()
            .filter_map(|(place, found)| drift(place, found))
            .collect();
        assert!(drifts.is_empty(), "{}", drifts.join("\n"));
        assert_eq!(
            drift(
                "src/command_names.rs",
                &COMMANDS.iter().map(|c| (*c).to_owned()).collect::<Vec<_>>()
            ),
            None
        );
    }

    /// The readers find what each place names, and a drift says which command.
    #[test]
    fn drift_names_the_missing_and_the_extra_command() {
        let ts = "import { invoke } from \"x\";\nexport const a = () => invoke<Overview>(\"get_overview\");\nexport const b = (n: string) => invoke(\"sign_out\", { n });";
        assert_eq!(invoked(ts), ["get_overview", "sign_out"]);
        let rust = "#[tauri::command]\nasync fn sign_in_user<R: Runtime>(\n#[tauri::command]\nfn doctor(state: State<'_, AppState>)";
        assert_eq!(command_functions(rust), ["sign_in_user", "doctor"]);
        assert_eq!(
            handler_names("tauri::generate_handler![\n a,\n b,\n ]"),
            ["a", "b"]
        );
        assert_eq!(
            granted(r#"{"permissions": ["core:event:allow-listen", "allow-sign-in-user"]}"#),
            ["sign_in_user"]
        );
        assert_eq!(
            documented("| Command |\n|---|\n| `doctor` | – |\nEvents"),
            ["doctor"]
        );

        let mut found: Vec<String> = COMMANDS.iter().map(|c| (*c).to_owned()).collect();
        found.retain(|c| c != "set_admin_account");
        found.push("launch_rockets".to_owned());
        found.push("doctor".to_owned());
        let said = drift("ui/src/api.ts", &found).unwrap_or_default();
        assert!(said.starts_with("ui/src/api.ts: "), "{said}");
        assert!(said.contains("missing [\"set_admin_account\"]"), "{said}");
        assert!(said.contains("[\"launch_rockets\"]"), "{said}");
        assert!(said.contains("listed twice [\"doctor\"]"), "{said}");
    }
}
