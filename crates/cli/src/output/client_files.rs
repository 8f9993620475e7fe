//! Other clients' files (podman's auth.json, Helm's registry config, `[docker] extra_configs`)
//! that the last refresh could not write: listed by `status`, and warned about by `refresh`.

use std::collections::BTreeMap;
use std::io::Write;

use acr_tray_engine::{ClientFileState, Engine};
use chrono::{DateTime, Utc};

use super::{Out, when};

/// `status`'s lines for the failing client files, after the registries.
pub(super) fn status(
    out: &mut Out,
    failing: &BTreeMap<String, ClientFileState>,
    now: DateTime<Utc>,
) {
    for (file, f) in failing {
        let e = &f.last_error;
        let _ = writeln!(out);
        let _ = writeln!(out, "{} {file}", f.client.file_title());
        let _ = writeln!(out, "  not updated:   {} ({})", e.message, when(e.at, now));
        if let Some(h) = e.hint.as_ref().map(crate::words::say) {
            let _ = writeln!(out, "  hint:          {h}");
        }
    }
}

/// One warning line per client file the refresh could not write: which file, why, and what to
/// do. The registries' refresh is not failed by it (Docker's config was written).
pub fn warnings(err: &mut Out, engine: &Engine) {
    for (file, f) in engine.failing_client_files() {
        let e = &f.last_error;
        let what = acr_tray_engine::client_file_failure(&file, &e.message);
        let hint = e
            .hint
            .as_ref()
            .map(|h| format!(". What to do: {}", crate::words::say(h)))
            .unwrap_or_default();
        let _ = writeln!(
            err,
            "warning: {} was not updated: {what}{hint}",
            f.client.file_name()
        );
    }
}
