//! The tray icon as a desktop shell sees it: the StatusNotifierItem and its dbusmenu, exported
//! by the app on the session bus (no tray host is needed to read or click them). Read and
//! clicked with `gdbus`, as a panel would over D-Bus.

use std::process::Command;
use std::time::{Duration, Instant};

/// Where libayatana-appindicator exports the item of tray icon `main`.
const ITEM: &str = "/org/ayatana/NotificationItem/tray_icon_tray_app_main";

fn gdbus(args: &[&str]) -> Result<String, String> {
    let out = Command::new("gdbus")
        .args(["call", "--session"])
        .args(args)
        .output()
        .map_err(|e| format!("cannot run gdbus: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// One entry of the tray menu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The dbusmenu id (new ones each time the app rebuilds the menu).
    pub id: i32,
    /// The label ("" for a separator).
    pub label: String,
    /// Greyed out.
    pub enabled: bool,
}

/// The app's tray item on the bus.
pub struct Tray {
    bus_name: String,
}

impl Tray {
    /// The tray item exported by process `pid` (its unique bus name is found by pid).
    pub fn of_process(pid: u32) -> Result<Self, String> {
        let names = gdbus(&[
            "--dest",
            "org.freedesktop.DBus",
            "--object-path",
            "/org/freedesktop/DBus",
            "--method",
            "org.freedesktop.DBus.ListNames",
        ])?;
        for name in quoted(&names).into_iter().filter(|n| n.starts_with(':')) {
            let Ok(owner) = gdbus(&[
                "--dest",
                "org.freedesktop.DBus",
                "--object-path",
                "/org/freedesktop/DBus",
                "--method",
                "org.freedesktop.DBus.GetConnectionUnixProcessID",
                &name,
            ]) else {
                continue;
            };
            if owner.trim() != format!("(uint32 {pid},)") {
                continue;
            }
            let tray = Self { bus_name: name };
            if tray.property("Id").is_ok() {
                return Ok(tray);
            }
        }
        Err(format!(
            "process {pid} exports no {ITEM} on the session bus"
        ))
    }

    /// A property of the StatusNotifierItem, as GVariant text (e.g. `<'Active'>`).
    pub fn property(&self, name: &str) -> Result<String, String> {
        let out = gdbus(&[
            "--dest",
            &self.bus_name,
            "--object-path",
            ITEM,
            "--method",
            "org.freedesktop.DBus.Properties.Get",
            "org.kde.StatusNotifierItem",
            name,
        ])?;
        Ok(out.trim().to_owned())
    }

    /// A string property of the StatusNotifierItem.
    pub fn string_property(&self, name: &str) -> Result<String, String> {
        let raw = self.property(name)?;
        quoted(&raw)
            .into_iter()
            .next()
            .ok_or_else(|| format!("{name} is not a string: {raw}"))
    }

    /// The menu's top-level entries, in order.
    pub fn menu(&self) -> Result<Vec<Entry>, String> {
        let out = gdbus(&[
            "--dest",
            &self.bus_name,
            "--object-path",
            &format!("{ITEM}/Menu"),
            "--method",
            "com.canonical.dbusmenu.GetLayout",
            "--",
            "0",
            "-1",
            "[]",
        ])?;
        Ok(parse_layout(&out))
    }

    /// Clicks the entry whose label starts with `label`, as a panel does. The app rebuilds the
    /// menu (with new ids) whenever what it shows changes, possibly between the read and the
    /// click: a click on an id that is gone is refused without effect, and made again on the
    /// menu as it is now.
    pub fn click(&self, label: &str) -> Result<Entry, String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let menu = self.menu()?;
            let entry = menu
                .iter()
                .find(|e| e.label.starts_with(label))
                .cloned()
                .ok_or_else(|| format!("no {label:?} in the tray menu: {menu:#?}"))?;
            match gdbus(&[
                "--dest",
                &self.bus_name,
                "--object-path",
                &format!("{ITEM}/Menu"),
                "--method",
                "com.canonical.dbusmenu.Event",
                &entry.id.to_string(),
                "clicked",
                "<0>",
                "0",
            ]) {
                Ok(_) => return Ok(entry),
                Err(e)
                    if e.contains("does not refer to a menu item") && Instant::now() < deadline =>
                {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// The single- or double-quoted GVariant strings in `text`, unescaped.
fn quoted(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\'' && c != '"' {
            continue;
        }
        let mut s = String::new();
        while let Some(d) = chars.next() {
            match d {
                '\\' => {
                    if let Some(e) = chars.next() {
                        s.push(e);
                    }
                }
                d if d == c => break,
                d => s.push(d),
            }
        }
        out.push(s);
    }
    out
}

/// The top-level children of a `GetLayout` answer:
/// `(uint32 4, (0, {...}, [<(30, {'enabled': <false>, 'label': <'...'>}, @av [])>, ...]))`.
fn parse_layout(text: &str) -> Vec<Entry> {
    text.split("<(")
        .skip(1)
        .filter_map(|chunk| {
            let (id, rest) = chunk.split_once(", {")?;
            let props = rest.split("}, @av").next().unwrap_or(rest);
            let label = props
                .split_once("'label': <")
                .and_then(|(_, v)| quoted(v).into_iter().next())
                .unwrap_or_default();
            Some(Entry {
                id: id.trim().parse().ok()?,
                label,
                enabled: !props.contains("'enabled': <false>"),
            })
        })
        .collect()
}

#[test]
fn parses_a_layout() {
    let text = "(uint32 4, (0, {'children-display': <'submenu'>}, [<(30, {'enabled': <false>, 'label': <'1 of 4 registries failing · next expiry 01:06'>}, @av [])>, <(31, {'enabled': <true>, 'type': <'separator'>}, @av [])>, <(32, {'label': <\"✓ it's — expires 01:06\">}, @av [])>, <(40, {'toggle-state': <0>, 'toggle-type': <'checkmark'>, 'label': <'Start at login'>}, @av [])>]))";
    let menu = parse_layout(text);
    assert_eq!(menu.len(), 4, "{menu:?}");
    assert_eq!(menu[0].id, 30);
    assert!(!menu[0].enabled);
    assert!(menu[0].label.starts_with("1 of 4"));
    assert_eq!(menu[1].label, "");
    assert_eq!(menu[2].label, "✓ it's — expires 01:06");
    assert!(menu[2].enabled);
    assert_eq!(menu[3].label, "Start at login");
    assert_eq!(
        quoted("(<'/tmp/x/tray-icon-main-2.png'>,)"),
        ["/tmp/x/tray-icon-main-2.png"]
    );
}
