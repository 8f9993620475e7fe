//! A registry's ARM resource id, parsed once wherever it comes from (`config.toml`,
//! `state.json`, an ARM answer), so that only a well-formed id is ever put into an ARM URL:
//! `/subscriptions/{GUID}/resourceGroups/{group}/providers/Microsoft.ContainerRegistry/registries/{name}`.
//!
//! An id is joined to the cloud's ARM endpoint to build a request URL. Unchecked, an id such as
//! `https://elsewhere.example/...` or one with `..`, `?` or `#` in it would send the ARM token
//! to another host or another resource; a [`RegistryId`] cannot hold one.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// What a valid id looks like, for error messages.
pub const EXAMPLE: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/my-group/providers/Microsoft.ContainerRegistry/registries/myregistry";

/// A well-formed ARM resource id of a container registry. The keywords (`subscriptions`,
/// `resourceGroups`, `providers`, the provider and `registries`) are matched
/// case-insensitively, as ARM does, and kept as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RegistryId(String);

impl RegistryId {
    /// Parses an id; the error says what is wrong and what a valid id looks like.
    pub fn parse(input: &str) -> Result<Self, String> {
        let invalid = |why: &str| {
            format!(
                "{:?} is not a registry's ARM resource id ({why}); it looks like {EXAMPLE}",
                shorten(input)
            )
        };
        let parts: Vec<&str> = input.split('/').collect();
        let [
            "",
            subscriptions,
            subscription,
            groups,
            group,
            providers,
            provider,
            registries,
            name,
        ] = parts.as_slice()
        else {
            return Err(invalid(
                "expected /subscriptions/…/resourceGroups/…/providers/Microsoft.ContainerRegistry/registries/NAME",
            ));
        };
        let keywords = [
            (subscriptions, "subscriptions"),
            (groups, "resourceGroups"),
            (providers, "providers"),
            (provider, "Microsoft.ContainerRegistry"),
            (registries, "registries"),
        ];
        if let Some((_, expected)) = keywords
            .iter()
            .find(|(got, expected)| !got.eq_ignore_ascii_case(expected))
        {
            return Err(invalid(&format!("`{expected}` is missing or misplaced")));
        }
        if !is_guid(subscription) {
            return Err(invalid("the subscription id is not a GUID"));
        }
        if !is_resource_group(group) {
            return Err(invalid(
                "a resource group is 1 to 90 letters, digits, `_`, `-`, `.`, `(` and `)`, not ending with `.`",
            ));
        }
        if !((5..=50).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric())) {
            return Err(invalid("a registry name is 5 to 50 letters and digits"));
        }
        Ok(Self(input.to_owned()))
    }

    /// The id as written (with its leading `/`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The subscription GUID.
    pub fn subscription(&self) -> &str {
        self.segment(2)
    }

    /// The resource group.
    pub fn resource_group(&self) -> &str {
        self.segment(4)
    }

    /// The registry's name.
    pub fn name(&self) -> &str {
        self.segment(8)
    }

    fn segment(&self, index: usize) -> &str {
        self.0.split('/').nth(index).unwrap_or_default()
    }
}

/// A subscription id as ARM gives it: a GUID (`8-4-4-4-12` hex digits).
pub fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, len)| g.len() == len && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Whether `s` is a tenant id: a GUID (it goes into token URLs and file names, so nothing else
/// is taken from a file or a server).
pub fn is_tenant_id(s: &str) -> bool {
    is_guid(s)
}

/// ARM's rule for resource-group names: 1 to 90 characters, letters and digits (Unicode ones
/// too), `_`, `-`, `.`, `(` and `)`, not ending with a period.
fn is_resource_group(s: &str) -> bool {
    (1..=90).contains(&s.chars().count())
        && !s.ends_with('.')
        && s.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '(' | ')'))
}

/// A hostile value may be long: quote at most 200 characters of it.
fn shorten(s: &str) -> String {
    match s.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_owned(),
    }
}

impl fmt::Display for RegistryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for RegistryId {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s)
    }
}

impl From<RegistryId> for String {
    fn from(id: RegistryId) -> Self {
        id.0
    }
}

/// For remembered ids (`state.json`): a malformed one is dropped (and found again through ARM)
/// instead of making the whole file unreadable.
pub fn deserialize_lenient<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<RegistryId>, D::Error> {
    let raw: Option<String> = Option::deserialize(deserializer)?;
    Ok(raw.and_then(|s| match RegistryId::parse(&s) {
        Ok(id) => Some(id),
        Err(why) => {
            tracing::warn!(error = %why, "ignoring a remembered ARM resource id");
            None
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUB: &str = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";

    fn id(group: &str, name: &str) -> String {
        format!(
            "/subscriptions/{SUB}/resourceGroups/{group}/providers/Microsoft.ContainerRegistry/registries/{name}"
        )
    }

    #[test]
    fn well_formed_ids_parse_case_insensitively() {
        let ok = RegistryId::parse(&id("rg-acr_1.(eu)", "myRegistry01")).expect("valid");
        assert_eq!(ok.subscription(), SUB);
        assert_eq!(ok.resource_group(), "rg-acr_1.(eu)");
        assert_eq!(ok.name(), "myRegistry01");
        let lower = format!(
            "/SUBSCRIPTIONS/{}/resourcegroups/grüppe/PROVIDERS/microsoft.containerregistry/Registries/abcde",
            SUB.to_uppercase()
        );
        let parsed = RegistryId::parse(&lower).expect("keywords in any case");
        assert_eq!(parsed.as_str(), lower, "kept as written");
        assert_eq!(parsed.resource_group(), "grüppe");
        assert!(RegistryId::parse(&id(&"g".repeat(90), &"r".repeat(50))).is_ok());
    }

    #[test]
    fn ids_that_could_send_the_token_elsewhere_are_refused() {
        let bad = [
            String::new(),
            "https://elsewhere.example/".to_owned(),
            format!("https://elsewhere.example{}", id("rg", "myreg")),
            format!("//elsewhere.example{}", id("rg", "myreg")),
            id("rg", "myreg").trim_start_matches('/').to_owned(),
            format!("{}/", id("rg", "myreg")),
            format!("{}?x=1", id("rg", "myreg")),
            format!("{}#x", id("rg", "myreg")),
            id("..", "myreg"),
            id(".", "myreg"),
            id("rg.", "myreg"),
            id("", "myreg"),
            id("r/g", "myreg"),
            id("r%2Fg", "myreg"),
            id("r?g", "myreg"),
            id(&"g".repeat(91), "myreg"),
            id("rg", "my-reg"),
            id("rg", "abcd"),
            id("rg", &"r".repeat(51)),
            id("rg", "my%2e%2e"),
            "/subscriptions/not-a-guid/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/myreg".to_owned(),
            format!(
                "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/myreg"
            ),
            format!(
                "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/myreg/listCredentials"
            ),
        ];
        for input in bad {
            let err = RegistryId::parse(&input).expect_err(&input);
            assert!(err.contains(EXAMPLE), "{err}");
        }
        let long = "x".repeat(100_000);
        assert!(RegistryId::parse(&long).expect_err("long").len() < 1000);
    }

    #[test]
    fn remembered_ids_that_are_malformed_are_dropped() {
        #[derive(Deserialize)]
        struct Holder {
            #[serde(default, deserialize_with = "deserialize_lenient")]
            id: Option<RegistryId>,
        }
        let good: Holder =
            serde_json::from_value(serde_json::json!({"id": id("rg", "myreg")})).expect("good");
        assert_eq!(good.id.map(String::from), Some(id("rg", "myreg")));
        let bad: Holder =
            serde_json::from_value(serde_json::json!({"id": "https://elsewhere.example/x"}))
                .expect("bad id dropped, not the file");
        assert_eq!(bad.id, None);
        let none: Holder = serde_json::from_value(serde_json::json!({})).expect("none");
        assert_eq!(none.id, None);
    }
}
