//! The tray icon: its look tells the state at a glance, its tooltip when the soonest token
//! expires, and its menu lists every registry with "Fresh tokens now", "Sign in again…" (only when
//! needed), "Settings…", "Open logs", "Start at login" and "Quit".

use acr_tray_engine::local_time;
use acr_tray_engine::service::view::{
    AccountHealth, GeneralSettings, Navigate, Overview, RegistryHealth, RegistryView, TrayState,
    View,
};
use tauri::image::Image;
use tauri::menu::{CheckMenuItem, Menu, MenuEvent, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Runtime};

use crate::AppState;
use crate::{window, window_host};

/// The tray icon's id.
const TRAY: &str = "main";

/// Every menu entry; its id is [`TrayItem::id`], parsed back by [`TrayItem::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrayItem {
    /// The summary line (disabled).
    Summary,
    /// A registry's line: opens the settings at the registries.
    Registry(String),
    /// Refresh every registry now: each gets a token just issued (as `acr-tray-cli exec` does
    /// before its command), and every sign-in is checked on the way.
    FreshTokensNow,
    /// Sign the identity whose session ended in again.
    SignInAgain(String),
    /// Open the settings window.
    Settings,
    /// Open the log folder.
    OpenLogs,
    /// Toggle the login item.
    StartAtLogin,
    /// Exit.
    Quit,
}

impl TrayItem {
    /// The menu id.
    pub fn id(&self) -> String {
        match self {
            Self::Summary => "summary".to_owned(),
            Self::Registry(name) => format!("registry:{name}"),
            Self::FreshTokensNow => "fresh-tokens-now".to_owned(),
            Self::SignInAgain(identity) => format!("sign-in:{identity}"),
            Self::Settings => "settings".to_owned(),
            Self::OpenLogs => "open-logs".to_owned(),
            Self::StartAtLogin => "start-at-login".to_owned(),
            Self::Quit => "quit".to_owned(),
        }
    }

    /// The entry a menu id stands for.
    pub fn parse(id: &str) -> Option<Self> {
        if let Some(name) = id.strip_prefix("registry:") {
            return Some(Self::Registry(name.to_owned()));
        }
        if let Some(identity) = id.strip_prefix("sign-in:") {
            return Some(Self::SignInAgain(identity.to_owned()));
        }
        Some(match id {
            "summary" => Self::Summary,
            "fresh-tokens-now" => Self::FreshTokensNow,
            "settings" => Self::Settings,
            "open-logs" => Self::OpenLogs,
            "start-at-login" => Self::StartAtLogin,
            "quit" => Self::Quit,
            _ => return None,
        })
    }
}

/// The icon of each state (designed in `icons/tray/*.svg`, rendered by `icons/render.sh`).
fn icon(state: TrayState) -> Option<Image<'static>> {
    let bytes: &'static [u8] = match state {
        TrayState::Ok | TrayState::Empty => include_bytes!("../../icons/tray/ok.png"),
        TrayState::Refreshing => include_bytes!("../../icons/tray/refreshing.png"),
        TrayState::Attention => include_bytes!("../../icons/tray/attention.png"),
        TrayState::SignInRequired => include_bytes!("../../icons/tray/sign-in.png"),
    };
    Image::from_bytes(bytes).ok()
}

/// Creates the tray icon.
pub fn create<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let overview = app.state::<AppState>().service.overview().borrow().clone();
    let mut builder = TrayIconBuilder::with_id(TRAY)
        .menu(&menu(app, &overview)?)
        .show_menu_on_left_click(false)
        .tooltip(tooltip(&overview))
        .on_menu_event(on_menu)
        .on_tray_icon_event(|tray, event| {
            // A left click opens the settings, as Tailscale's and 1Password's icons do on
            // platforms that report clicks (the menu is on the right button).
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                window_host::open(tray.app_handle(), None);
            }
        });
    if let Some(image) = icon(overview.state) {
        builder = builder.icon(image);
    }
    builder.build(app)?;
    Ok(())
}

/// Shows a new overview in the tray.
pub fn update<R: Runtime>(app: &AppHandle<R>, overview: &Overview) {
    let Some(tray) = app.tray_by_id(TRAY) else {
        return;
    };
    let result = menu(app, overview).and_then(|m| {
        tray.set_menu(Some(m))?;
        tray.set_tooltip(Some(tooltip(overview)))?;
        tray.set_icon(icon(overview.state))
    });
    if let Err(e) = result {
        tracing::warn!(error = %e, "cannot update the tray");
    }
}

/// The tooltip: the state in a few words and when the soonest token expires.
pub fn tooltip(overview: &Overview) -> String {
    format!("ACR Tray — {}", overview.summary)
}

/// One registry's menu line, e.g. "✓ myregistry — expires 14:05".
pub fn registry_line(r: &RegistryView, overview: &Overview) -> String {
    let (mark, what) = match r.health {
        RegistryHealth::Ok => ("✓", None),
        RegistryHealth::Pending => ("…", Some("not refreshed yet")),
        RegistryHealth::Refreshing => ("↻", Some("refreshing")),
        RegistryHealth::Failing => ("!", Some("failing")),
        RegistryHealth::SignInRequired => ("!", Some("sign-in required")),
    };
    let expiry = r.expires_at.map(|at| {
        if at <= overview.now {
            "expired".to_owned()
        } else {
            format!("expires {}", local_time(at, overview.now))
        }
    });
    let detail: Vec<String> = what.map(str::to_owned).into_iter().chain(expiry).collect();
    if detail.is_empty() {
        format!("{mark} {}", r.name)
    } else {
        format!("{mark} {} — {}", r.name, detail.join(", "))
    }
}

fn menu<R: Runtime>(app: &AppHandle<R>, overview: &Overview) -> tauri::Result<Menu<R>> {
    let menu = Menu::new(app)?;
    menu.append(&MenuItem::with_id(
        app,
        TrayItem::Summary.id(),
        &overview.summary,
        false,
        None::<&str>,
    )?)?;
    if !overview.registries.is_empty() {
        menu.append(&PredefinedMenuItem::separator(app)?)?;
    }
    for r in &overview.registries {
        menu.append(&MenuItem::with_id(
            app,
            TrayItem::Registry(r.name.clone()).id(),
            registry_line(r, overview),
            true,
            None::<&str>,
        )?)?;
    }
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    menu.append(&MenuItem::with_id(
        app,
        TrayItem::FreshTokensNow.id(),
        "Fresh tokens now",
        !overview.registries.is_empty(),
        None::<&str>,
    )?)?;
    for a in overview
        .accounts
        .iter()
        .filter(|a| a.health == AccountHealth::SignInRequired)
    {
        menu.append(&MenuItem::with_id(
            app,
            TrayItem::SignInAgain(a.id.clone()).id(),
            format!("Sign in again as {}…", a.label),
            true,
            None::<&str>,
        )?)?;
    }
    menu.append(&MenuItem::with_id(
        app,
        TrayItem::Settings.id(),
        "Settings…",
        true,
        None::<&str>,
    )?)?;
    menu.append(&MenuItem::with_id(
        app,
        TrayItem::OpenLogs.id(),
        "Open logs",
        true,
        None::<&str>,
    )?)?;
    menu.append(&CheckMenuItem::with_id(
        app,
        TrayItem::StartAtLogin.id(),
        "Start at login",
        true,
        overview.general.start_at_login,
        None::<&str>,
    )?)?;
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    menu.append(&MenuItem::with_id(
        app,
        TrayItem::Quit.id(),
        "Quit ACR Tray",
        true,
        None::<&str>,
    )?)?;
    Ok(menu)
}

fn on_menu<R: Runtime>(app: &AppHandle<R>, event: MenuEvent) {
    let Some(item) = TrayItem::parse(event.id().as_ref()) else {
        return;
    };
    tracing::debug!(?item, "tray menu");
    match item {
        TrayItem::Summary | TrayItem::Settings => window_host::open(app, None),
        TrayItem::Registry(_) => window_host::open(
            app,
            Some(Navigate {
                view: View::Registries,
                identity: None,
                sign_in: false,
            }),
        ),
        TrayItem::FreshTokensNow => {
            let app = app.clone();
            tauri::async_runtime::spawn(async move {
                let state = app.state::<AppState>();
                if let Err(e) = state.service.refresh_now(Vec::new()).await {
                    tracing::warn!(error = %e.message, "refresh from the tray failed");
                }
            });
        }
        TrayItem::SignInAgain(identity) => window_host::open(
            app,
            Some(Navigate {
                view: View::Accounts,
                identity: Some(identity),
                sign_in: true,
            }),
        ),
        TrayItem::OpenLogs => {
            let state = app.state::<AppState>();
            if let Ok(dir) = state.service.log_dir()
                && let Err(e) = window::open_folder(&dir)
            {
                tracing::warn!(error = %e, "cannot open the log folder");
            }
        }
        TrayItem::StartAtLogin => {
            let state = app.state::<AppState>();
            let current = state.service.overview().borrow().general.clone();
            let toggled = GeneralSettings {
                start_at_login: !current.start_at_login,
                ..current
            };
            if let Err(e) = state.service.set_general(toggled) {
                tracing::warn!(error = %e.message, "cannot change start at login");
            }
        }
        TrayItem::Quit => app.exit(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn menu_ids_round_trip() {
        for item in [
            TrayItem::Summary,
            TrayItem::Registry("myreg1".into()),
            TrayItem::FreshTokensNow,
            TrayItem::SignInAgain("dev@contoso.example".into()),
            TrayItem::Settings,
            TrayItem::OpenLogs,
            TrayItem::StartAtLogin,
            TrayItem::Quit,
        ] {
            assert_eq!(TrayItem::parse(&item.id()), Some(item.clone()), "{item:?}");
        }
        assert_eq!(TrayItem::parse("nonsense"), None);
    }
}
