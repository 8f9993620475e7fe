//! ABAC registries: `roleAssignmentMode` in ARM, repository roles with and without a
//! repository condition, and legacy roles that give nothing there.

use fake_azure::{FakeAzure, RegistrySpec, RepositoryCondition, Role, RoleAssignmentMode};
use serde_json::{Value, json};

use crate::common::*;

const ABAC: RoleAssignmentMode = RoleAssignmentMode::AbacRepositoryPermissions;

/// An ACR refresh token for `sp` through the exchange (ACR-audience Entra token).
async fn exchanged(
    fake: &FakeAzure,
    http: &reqwest::Client,
    sp: &fake_azure::ServicePrincipal,
    login_server: &str,
) -> reqwest::Response {
    let aad = sp_token(fake, http, sp, ACR_SCOPE).await;
    exchange(http, login_server, &sp.tenant, &aad).await
}

/// The `access` claim of an access token minted from `rt` for `scopes`.
async fn access(http: &reqwest::Client, login_server: &str, rt: &str, scopes: &[&str]) -> Value {
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("service", login_server),
        ("refresh_token", rt),
    ];
    form.extend(scopes.iter().map(|s| ("scope", *s)));
    let response = http
        .post(format!("https://{login_server}/oauth2/token"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let body = ok_json(response).await;
    jwt_claims(body["access_token"].as_str().unwrap())["access"].clone()
}

const SCOPES: [&str; 4] = [
    "repository:team-a/app:pull,push,delete",
    "repository:team-b/tool:pull,push,delete",
    "repository:other:pull",
    "registry:catalog:*",
];

fn granted(access: &Value) -> Vec<(String, Vec<String>)> {
    access
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let actions = a["actions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_str().unwrap().to_owned())
                .collect();
            (a["name"].as_str().unwrap().to_owned(), actions)
        })
        .collect()
}

fn expect(entries: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
    entries
        .iter()
        .map(|(name, actions)| {
            (
                (*name).to_owned(),
                actions.iter().map(|a| (*a).to_owned()).collect(),
            )
        })
        .collect()
}

#[tokio::test]
async fn abac_registries_grant_per_repository_and_ignore_legacy_roles() {
    let fake = FakeAzure::start().await.unwrap();
    let http = client(&fake);
    let tenant = fake.default_tenant();
    let reg = fake.add_registry(RegistrySpec::new("abacreg").role_assignment_mode(ABAC));

    // AcrPull, AcrPush, Owner and Contributor are not honoured: no refresh token, no basic login.
    let legacy = fake.add_service_principal(&tenant);
    for role in [Role::AcrPull, Role::AcrPush, Role::Owner, Role::Contributor] {
        fake.assign_role(&reg.name, &legacy.object_id, role);
    }
    let refused = exchanged(&fake, &http, &legacy, &reg.login_server).await;
    assert_eq!(refused.status(), 401);
    let basic = http
        .get(format!(
            "https://{}/oauth2/token?service={}&scope=repository:team-a/app:pull",
            reg.login_server, reg.login_server
        ))
        .basic_auth(&legacy.client_id, Some(&legacy.secret))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 401);

    // Reader on one repository, Writer under a prefix.
    let scoped = fake.add_service_principal(&tenant);
    fake.assign_repository_role(
        &reg.name,
        &scoped.object_id,
        Role::RepositoryReader,
        RepositoryCondition::Equals("team-a/app".into()),
    );
    fake.assign_repository_role(
        &reg.name,
        &scoped.object_id,
        Role::RepositoryWriter,
        RepositoryCondition::StartsWith("team-b/".into()),
    );
    let body = ok_json(exchanged(&fake, &http, &scoped, &reg.login_server).await).await;
    let rt = body["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(
        jwt_claims(&rt)["permissions"]["actions"],
        json!(["read", "write"])
    );
    let got = granted(&access(&http, &reg.login_server, &rt, &SCOPES).await);
    assert_eq!(
        got,
        expect(&[
            ("team-a/app", &["pull"]),
            ("team-b/tool", &["pull", "push"]),
            ("other", &[]),
            ("catalog", &[]),
        ])
    );
    // The condition compares case-insensitively, like StringEqualsIgnoreCase.
    let upper = access(
        &http,
        &reg.login_server,
        &rt,
        &["repository:TEAM-A/App:pull"],
    )
    .await;
    assert_eq!(granted(&upper), expect(&[("TEAM-A/App", &["pull"])]));

    // Assignments are read when the access token is minted: the catalog and a registry-wide
    // Contributor show up with the same refresh token.
    fake.assign_role(&reg.name, &scoped.object_id, Role::CatalogLister);
    fake.assign_role(&reg.name, &scoped.object_id, Role::RepositoryContributor);
    let got = granted(&access(&http, &reg.login_server, &rt, &SCOPES).await);
    let all: &[&str] = &["pull", "push", "delete"];
    assert_eq!(
        got,
        expect(&[
            ("team-a/app", all),
            ("team-b/tool", all),
            ("other", &["pull"]),
            ("catalog", &["*"]),
        ])
    );

    // Next to a repository role, AcrPush adds nothing: not to the refresh token's permissions,
    // not to any repository.
    let mixed = fake.add_service_principal(&tenant);
    fake.assign_role(&reg.name, &mixed.object_id, Role::AcrPush);
    fake.assign_repository_role(
        &reg.name,
        &mixed.object_id,
        Role::RepositoryReader,
        RepositoryCondition::Equals("team-a/app".into()),
    );
    let body = ok_json(exchanged(&fake, &http, &mixed, &reg.login_server).await).await;
    let mixed_rt = body["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(
        jwt_claims(&mixed_rt)["permissions"]["actions"],
        json!(["read"])
    );
    let got = granted(&access(&http, &reg.login_server, &mixed_rt, &SCOPES[..3]).await);
    assert_eq!(
        got,
        expect(&[
            ("team-a/app", &["pull"]),
            ("team-b/tool", &[]),
            ("other", &[])
        ])
    );

    // Basic service-principal credentials get the same per-repository answer.
    let reader = fake.add_service_principal(&tenant);
    fake.assign_repository_role(
        &reg.name,
        &reader.object_id,
        Role::RepositoryReader,
        RepositoryCondition::Equals("team-a/app".into()),
    );
    let token = ok_json(
        http.get(format!(
            "https://{0}/oauth2/token?service={0}&scope=repository:team-a/app:pull,push&scope=repository:other:pull",
            reg.login_server
        ))
        .basic_auth(&reader.client_id, Some(&reader.secret))
        .send()
        .await
        .unwrap(),
    )
    .await;
    let got = granted(&jwt_claims(token["access_token"].as_str().unwrap())["access"]);
    assert_eq!(got, expect(&[("team-a/app", &["pull"]), ("other", &[])]));
}

#[tokio::test]
async fn arm_shows_the_role_assignment_mode_and_a_switch_changes_what_counts() {
    let fake = FakeAzure::start().await.unwrap();
    let http = client(&fake);
    let tenant = fake.default_tenant();
    let sp = fake.add_service_principal(&tenant);
    let legacy = fake.add_registry(RegistrySpec::new("legacyreg"));
    let abac = fake.add_registry(RegistrySpec::new("abacreg2").role_assignment_mode(ABAC));
    for reg in [&legacy, &abac] {
        fake.assign_role(&reg.name, &sp.object_id, Role::Reader);
    }
    let arm = sp_token(&fake, &http, &sp, ARM_SCOPE).await;
    for (reg, mode) in [
        (&legacy, "LegacyRegistryPermissions"),
        (&abac, "AbacRepositoryPermissions"),
    ] {
        // The versions that document the property carry it; 2025-04-01 does not.
        for (version, want) in [
            ("2025-03-01-preview", Value::from(mode)),
            ("2025-11-01", Value::from(mode)),
            ("2025-04-01", Value::Null),
            ("2023-07-01", Value::Null),
        ] {
            let body: Value = http
                .get(format!(
                    "{}{}?api-version={version}",
                    fake.arm_url(),
                    &reg.id[1..]
                ))
                .bearer_auth(&arm)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(
                body["properties"]["roleAssignmentMode"], want,
                "{version}: {body}"
            );
        }
    }

    // A legacy registry honours AcrPull and an unconditioned repository role, but not a
    // conditioned one (it supports no ABAC conditions).
    let puller = fake.add_service_principal(&tenant);
    fake.assign_role(&legacy.name, &puller.object_id, Role::AcrPull);
    let conditioned = fake.add_service_principal(&tenant);
    fake.assign_repository_role(
        &legacy.name,
        &conditioned.object_id,
        Role::RepositoryReader,
        RepositoryCondition::Equals("app".into()),
    );
    let wide = fake.add_service_principal(&tenant);
    fake.assign_role(&legacy.name, &wide.object_id, Role::RepositoryReader);
    let ok = exchanged(&fake, &http, &puller, &legacy.login_server).await;
    assert_eq!(ok.status(), 200);
    let refused = exchanged(&fake, &http, &conditioned, &legacy.login_server).await;
    assert_eq!(refused.status(), 401);
    let body = ok_json(exchanged(&fake, &http, &wide, &legacy.login_server).await).await;
    let rt = body["refresh_token"].as_str().unwrap();
    let got = granted(
        &access(
            &http,
            &legacy.login_server,
            rt,
            &["repository:any:pull,push"],
        )
        .await,
    );
    assert_eq!(got, expect(&[("any", &["pull"])]));

    // Switching the registry to ABAC takes AcrPull's access away and honours the condition.
    fake.set_role_assignment_mode(&legacy.name, ABAC);
    let refused = exchanged(&fake, &http, &puller, &legacy.login_server).await;
    assert_eq!(refused.status(), 401);
    let body = ok_json(exchanged(&fake, &http, &conditioned, &legacy.login_server).await).await;
    let rt = body["refresh_token"].as_str().unwrap();
    let got = granted(
        &access(
            &http,
            &legacy.login_server,
            rt,
            &["repository:app:pull", "repository:else:pull"],
        )
        .await,
    );
    assert_eq!(got, expect(&[("app", &["pull"]), ("else", &[])]));

    // Role::None clears conditioned assignments too.
    fake.assign_role(&legacy.name, &conditioned.object_id, Role::None);
    let refused = exchanged(&fake, &http, &conditioned, &legacy.login_server).await;
    assert_eq!(refused.status(), 401);
}
