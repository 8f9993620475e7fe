//! The TypeScript declarations of the [`view`](super::view) types, for the web UI's
//! `ui/src/bindings.ts`. The file is generated, committed, and checked: the test
//! `bindings_are_current` fails when it differs from what the Rust types say (run it with
//! `UPDATE_BINDINGS=1` to rewrite the file).

use ts_rs::{Config, TS};

use super::view::*;
use crate::azure::acr::RegistryRole;
use crate::events::Client;

/// Declarations of one type: its doc comment and `export type ...`.
fn declare<T: TS>(cfg: &Config, out: &mut String) {
    if let Some(docs) = T::docs() {
        out.push_str(&docs);
        if !docs.ends_with('\n') {
            out.push('\n');
        }
    }
    out.push_str("export ");
    out.push_str(&T::decl(cfg));
    out.push_str("\n\n");
}

/// The whole `bindings.ts`.
pub fn typescript() -> String {
    let cfg = Config::new();
    let mut out = String::from(
        "// GENERATED from crates/engine/src/service/view.rs by ts-rs: do not edit.\n\
         // Regenerate: UPDATE_BINDINGS=1 cargo test -p acr-tray-engine --lib bindings\n\
         // Times are RFC 3339 strings in UTC. No type here carries a secret back to the UI.\n\n",
    );
    macro_rules! all {
        ($($t:ty),* $(,)?) => { $( declare::<$t>(&cfg, &mut out); )* };
    }
    all!(
        TrayState,
        Overview,
        IdentityKindName,
        AccountHealth,
        AccountView,
        TenantView,
        RegistrySignInView,
        RegistryHealth,
        RegistryView,
        RegistryRole,
        AdminAccountView,
        ClientFileView,
        Client,
        ErrorCode,
        ErrorView,
        CloudView,
        CloudChangePreview,
        LogLevel,
        GeneralSettings,
        DeviceCodePrompt,
        SignInMethod,
        UserSignIn,
        SpCredentialInput,
        ServicePrincipalSignIn,
        RegistrySignInInput,
        AddRegistry,
        RefreshOutcomeView,
        DiscoveredRegistry,
        DiscoveredTenant,
        UnlistedRegistry,
        Discovery,
        FindingSeverity,
        FindingView,
        DockerStoreView,
        DoctorView,
        CredentialSource,
        RepositoryAction,
        CheckReport,
        CloudInput,
        View,
        Navigate,
    );
    format!("{}\n", out.trim_end())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    #[test]
    fn bindings_are_current() {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/bindings.ts");
        let generated = super::typescript();
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            std::fs::write(&path, &generated).unwrap();
            return;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "ui/src/bindings.ts differs from the Rust view types: run \
             `UPDATE_BINDINGS=1 cargo test -p acr-tray-engine --lib bindings` and commit it"
        );
    }
}
