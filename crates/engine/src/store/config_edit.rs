//! Changing a few settings in config.toml in place: the file as it stands, with the person's
//! comments, layout and every other setting, gets only the named values changed (the settings
//! window's General page saves this way).

use std::path::Path;

use toml_edit::{DocumentMut, Item, Table, Value};

use super::config::{HEADER, Settings};
use crate::error::{Error, Result};
use crate::fsutil;

/// One `[table] key = value`.
pub struct Change {
    /// The table (`refresh`, `app`, `clients`).
    pub table: &'static str,
    /// The key in it.
    pub key: &'static str,
    /// The new value.
    pub value: Value,
}

impl Change {
    /// `[table] key = value`.
    pub fn new(table: &'static str, key: &'static str, value: impl Into<Value>) -> Self {
        Self {
            table,
            key,
            value: value.into(),
        }
    }
}

/// Writes `changes` into config.toml at `path` (created with the usual header when missing),
/// keeping the rest of the file as it is: a value keeps its comments, a missing table is added
/// at the end. Nothing is written unless the result loads as valid settings; it is returned.
pub fn change_in_place(path: &Path, changes: Vec<Change>) -> Result<Settings> {
    let (text, header) = match std::fs::read_to_string(path) {
        Ok(t) => (t, ""),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (String::new(), HEADER),
        Err(e) => return Err(Error::io("read", path, &e)),
    };
    // The file must be valid settings before it is changed, as for any other write.
    Settings::parse(path, &text)?;
    let config_error = |message: String| Error::Config {
        path: path.to_path_buf(),
        message,
    };
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| config_error(e.to_string().trim_end().to_owned()))?;
    for Change { table, key, value } in changes {
        let item = doc.entry(table).or_insert(Item::Table(Table::new()));
        let Some(entries) = item.as_table_like_mut() else {
            return Err(config_error(format!("`{table}` is not a table")));
        };
        match entries.get_mut(key) {
            Some(Item::Value(old)) => {
                let mut value = value;
                *value.decor_mut() = old.decor().clone();
                *old = value;
            }
            Some(_) => return Err(config_error(format!("[{table}] {key} is not a value"))),
            None => {
                entries.insert(key, Item::Value(value));
            }
        }
    }
    let text = format!("{header}{doc}");
    let settings = Settings::parse(path, &text)?;
    fsutil::atomic_write(path, text.as_bytes())?;
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::{Change, change_in_place};
    use crate::store::config::LogLevel;

    const MINE: &str = "# My settings.\n\n[refresh]\n# Twice an hour.\ninterval_minutes = 30 # or less\n\n[docker]\nextra_configs = [\"~/ci\"] # CI's own\n";

    #[test]
    fn only_the_named_values_change_and_comments_stay() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("config.toml");
        std::fs::write(&path, MINE).expect("write");
        let settings = change_in_place(
            &path,
            vec![
                Change::new("refresh", "interval_minutes", 45),
                Change::new("app", "log_level", "debug"),
                Change::new("clients", "helm", true),
            ],
        )
        .expect("changed");
        assert_eq!(settings.refresh.interval_minutes, 45);
        assert_eq!(settings.app.log_level, LogLevel::Debug);
        assert!(settings.clients.helm);
        assert_eq!(settings.docker.extra_configs.len(), 1);
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(
            text,
            MINE.replace("= 30 #", "= 45 #")
                + "\n[app]\nlog_level = \"debug\"\n\n[clients]\nhelm = true\n"
        );
    }

    #[test]
    fn dotted_and_inline_tables_are_changed_where_they_are() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "clients = { helm = true } # inline\n").expect("write");
        change_in_place(&path, vec![Change::new("clients", "helm", false)]).expect("changed");
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(text, "clients = { helm = false } # inline\n");
        std::fs::write(&path, "refresh.interval_minutes = 20\n").expect("write");
        change_in_place(&path, vec![Change::new("refresh", "interval_minutes", 25)])
            .expect("changed");
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(text, "refresh.interval_minutes = 25\n");
    }

    #[test]
    fn a_missing_file_gets_the_header_and_invalid_results_are_not_written() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("config.toml");
        change_in_place(&path, vec![Change::new("clients", "helm", true)]).expect("changed");
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.starts_with("# ACR Tray settings."), "{text}");
        assert!(text.ends_with("[clients]\nhelm = true\n"), "{text}");
        // Out of range: refused, the file untouched.
        let err = change_in_place(&path, vec![Change::new("refresh", "interval_minutes", 1)])
            .expect_err("refused");
        assert!(err.to_string().contains("interval_minutes"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), text);
        // Not a table, or not a value: refused, untouched.
        std::fs::write(&path, "[clients.helm]\n").expect("write");
        assert!(change_in_place(&path, vec![Change::new("clients", "helm", true)]).is_err());
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            "[clients.helm]\n"
        );
    }
}
