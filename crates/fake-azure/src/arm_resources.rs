//! ARM's generic resource list, `GET /subscriptions/{sub}/resources` and
//! `GET /subscriptions/{sub}/resourceGroups/{rg}/resources` ("Resources - List"): what
//! `az acr login -n NAME` asks first to find a registry's resource group. The fake's only
//! resources are its registries.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use crate::app::{EntraToken, Shared};
use crate::arm::{PROVIDER, with_subscription};
use crate::errors;
use crate::form::Form;
use crate::lock;
use crate::state::RegistryRec;

/// Lists the registries of `sub_id` (and `rg`) the caller may read, as `GenericResourceExpanded`
/// objects (`id`, `name`, `type`, `sku`, `location`, `tags`; `createdTime`, `changedTime`,
/// `provisioningState` only when `$expand` names them), narrowed by `$filter`, paged like the
/// registries list (`$skipToken`, `nextLink`).
pub(crate) fn list(
    s: &Shared,
    token: &EntraToken,
    sub_id: &str,
    rg: Option<&str>,
    query: &Form,
) -> Response {
    let filter = match query.get("$filter").map(parse_filter).transpose() {
        Ok(filter) => filter.unwrap_or_default(),
        Err(raw) => {
            return errors::arm(
                StatusCode::BAD_REQUEST,
                "InvalidFilterInQueryString",
                &format!("Invalid $filter '{raw}' specified in the query string."),
            );
        }
    };
    let expand: Vec<String> = query
        .get("$expand")
        .unwrap_or_default()
        .split(',')
        .map(|p| p.trim().to_ascii_lowercase())
        .collect();
    let skip = query
        .get("$skipToken")
        .or_else(|| query.get("$skiptoken"))
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    with_subscription(s, token, sub_id, |sub| {
        let dir = lock(&s.dir);
        let visible: Vec<Value> = dir
            .registries
            .values()
            .filter(|r| r.public.subscription.eq_ignore_ascii_case(&sub.id))
            .filter(|r| rg.is_none_or(|rg| r.public.resource_group.eq_ignore_ascii_case(rg)))
            .filter(|r| filter.iter().all(|c| c.matches(r)))
            .filter(|r| {
                dir.roles(&r.spec.name, &token.oid)
                    .iter()
                    .any(|role| role.arm_read())
            })
            .map(|r| resource_json(r, &expand))
            .collect();
        let size = dir.arm_page_size.max(1);
        let link_base = dir.auth.arm_link_base.clone();
        drop(dir);
        let end = skip.saturating_add(size).min(visible.len());
        let start = skip.min(end);
        let mut body = json!({"value": visible[start..end]});
        if end < visible.len() {
            let rg_part = rg
                .map(|rg| format!("resourceGroups/{rg}/"))
                .unwrap_or_default();
            let mut next = url::form_urlencoded::Serializer::new(String::new());
            for key in ["api-version", "$filter", "$expand"] {
                if let Some(value) = query.get(key) {
                    next.append_pair(key, value);
                }
            }
            next.append_pair("$skipToken", &end.to_string());
            body["nextLink"] = json!(format!(
                "{}subscriptions/{}/{rg_part}resources?{}",
                link_base.unwrap_or_else(|| s.arm_url()),
                sub.id,
                next.finish()
            ));
        }
        errors::json_ok(body)
    })
}

fn resource_json(rec: &RegistryRec, expand: &[String]) -> Value {
    let mut body = json!({
        "id": rec.public.id,
        "name": rec.spec.name,
        "type": format!("{PROVIDER}/registries"),
        "sku": {"name": rec.spec.sku, "tier": rec.spec.sku},
        "location": "westus",
        "tags": rec.tags,
    });
    let time =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    for field in expand {
        match field.as_str() {
            "createdtime" => body["createdTime"] = json!(time(rec.created)),
            "changedtime" => body["changedTime"] = json!(time(rec.modified)),
            "provisioningstate" => {
                body["provisioningState"] = json!(if rec.updating_op.is_some() {
                    "Updating"
                } else {
                    "Succeeded"
                });
            }
            _ => {}
        }
    }
    body
}

/// A property the fake's resources can be filtered on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Property {
    ResourceType,
    Name,
    ResourceGroup,
    Location,
}

/// One `property eq|ne 'value'` clause of a `$filter`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Clause {
    property: Property,
    equal: bool,
    value: String,
}

impl Clause {
    /// Values compare case-insensitively, as ARM compares names and types.
    fn matches(&self, rec: &RegistryRec) -> bool {
        let actual = match self.property {
            Property::ResourceType => format!("{PROVIDER}/registries"),
            Property::Name => rec.spec.name.clone(),
            Property::ResourceGroup => rec.public.resource_group.clone(),
            Property::Location => "westus".to_owned(),
        };
        actual.eq_ignore_ascii_case(&self.value) == self.equal
    }
}

/// `$filter`: clauses `property eq|ne 'value'` (property `resourceType`, `name`,
/// `resourceGroup` or `location`; `''` inside a value is one quote) joined by `and`. Anything
/// else (other properties, `or`, `substringof`, tags) is an `Err` with the raw filter: the fake
/// refuses what it does not implement rather than answering an unfiltered list.
fn parse_filter(raw: &str) -> Result<Vec<Clause>, String> {
    let refuse = || raw.to_owned();
    let mut clauses = Vec::new();
    let mut rest = raw.trim_start();
    loop {
        let (property, after) = word(rest).ok_or_else(refuse)?;
        let property = match property.to_ascii_lowercase().as_str() {
            "resourcetype" => Property::ResourceType,
            "name" => Property::Name,
            "resourcegroup" => Property::ResourceGroup,
            "location" => Property::Location,
            _ => return Err(refuse()),
        };
        let (op, after) = word(after.trim_start()).ok_or_else(refuse)?;
        let equal = match op.to_ascii_lowercase().as_str() {
            "eq" => true,
            "ne" => false,
            _ => return Err(refuse()),
        };
        let (value, after) = quoted(after.trim_start()).ok_or_else(refuse)?;
        clauses.push(Clause {
            property,
            equal,
            value,
        });
        rest = after.trim_start();
        if rest.is_empty() {
            return Ok(clauses);
        }
        let (joiner, after) = word(rest).ok_or_else(refuse)?;
        if !joiner.eq_ignore_ascii_case("and") || !after.starts_with(char::is_whitespace) {
            return Err(refuse());
        }
        rest = after.trim_start();
    }
}

/// A leading run of ASCII letters and the rest.
fn word(s: &str) -> Option<(&str, &str)> {
    let end = s
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(s.len());
    (end > 0).then(|| s.split_at(end))
}

/// A leading OData string literal (`'...'`, `''` for a quote) and the rest.
fn quoted(s: &str) -> Option<(String, &str)> {
    let mut chars = s.char_indices();
    if chars.next()?.1 != '\'' {
        return None;
    }
    let mut value = String::new();
    let mut chars = chars.peekable();
    while let Some((i, c)) = chars.next() {
        if c != '\'' {
            value.push(c);
            continue;
        }
        if chars.peek().is_some_and(|&(_, next)| next == '\'') {
            chars.next();
            value.push('\'');
            continue;
        }
        return Some((value, &s[i.saturating_add(1)..]));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_or_are_refused() {
        let clauses = parse_filter(
            "resourceType eq 'Microsoft.ContainerRegistry/registries' AND name ne 'it''s'",
        )
        .unwrap_or_default();
        assert_eq!(
            clauses,
            [
                Clause {
                    property: Property::ResourceType,
                    equal: true,
                    value: "Microsoft.ContainerRegistry/registries".into()
                },
                Clause {
                    property: Property::Name,
                    equal: false,
                    value: "it's".into()
                },
            ]
        );
        for bad in [
            "",
            "resourceType eq",
            "resourceType eq 'unterminated",
            "tagName eq 'env'",
            "substringof('reg', name)",
            "name eq 'a' or name eq 'b'",
            "name gt 'a'",
            "$filter=resourceType eq 'x'",
        ] {
            assert_eq!(parse_filter(bad), Err(bad.to_owned()), "{bad}");
        }
    }
}
