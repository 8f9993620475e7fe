//! The settings window's commands: each a line or two over the engine's
//! [`Service`](acr_tray_engine::service::Service). They reject with an
//! [`ErrorView`] (`{code, message, hint}`); none returns a secret.

use acr_tray_engine::service::ViewResult;
use acr_tray_engine::service::view::{
    AccountView, AddRegistry, CloudChangePreview, CloudInput, CloudView, Discovery, DoctorView,
    ErrorView, GeneralSettings, Overview, RefreshOutcomeView, RegistryView, ServicePrincipalSignIn,
    UserSignIn,
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
