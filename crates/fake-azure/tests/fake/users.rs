use fake_azure::{AZURE_CLI_CLIENT_ID, FakeAzure, RegistrySpec, Role};

use crate::common::*;

const ARM_USER_SCOPE: &str =
    "https://management.core.windows.net//.default offline_access openid profile";

#[tokio::test]
async fn one_refresh_token_covers_resources_and_guest_tenants() {
    let fake = FakeAzure::start().await.unwrap();
    let http = client(&fake);
    let home = fake.default_tenant();
    let other = fake.add_tenant();
    let stranger_tenant = fake.add_tenant();
    let user = fake.add_user(&home, "alice@contoso.localhost");
    let guest = fake.add_guest(&user, &other);
    assert_eq!(guest.tenant, other.id);
    assert_ne!(guest.object_id, user.object_id);
    assert_eq!(fake.add_guest(&user, &other), guest, "idempotent");
    let rt = fake.issue_user_refresh_token(&user, AZURE_CLI_CLIENT_ID);

    let arm = ok_json(refresh_request(&fake, &http, "organizations", &rt, ARM_USER_SCOPE).await);
    let arm = arm.await;
    let claims = jwt_claims(arm["access_token"].as_str().unwrap());
    assert_eq!(claims["tid"], home.id);
    assert_eq!(claims["aud"], "https://management.core.windows.net/");
    let rotated = arm["refresh_token"].as_str().unwrap().to_owned();

    // Same session, another resource (several resources: the first one wins).
    let scope = format!("{ACR_SCOPE} {ARM_SCOPE} offline_access");
    let acr = ok_json(refresh_request(&fake, &http, &home.id, &rotated, &scope).await).await;
    assert_eq!(
        jwt_claims(acr["access_token"].as_str().unwrap())["aud"],
        "https://containerregistry.azure.net"
    );

    // The guest tenant: its own object ID, the home tenant as identity provider.
    let guest_body = ok_json(refresh_request(&fake, &http, &other.id, &rt, ACR_SCOPE).await).await;
    let claims = jwt_claims(guest_body["access_token"].as_str().unwrap());
    assert_eq!(claims["tid"], other.id);
    assert_eq!(claims["oid"], guest.object_id);
    assert_eq!(
        claims["idp"],
        format!("https://sts.windows.net/{}/", home.id)
    );

    // ...which the other tenant's registries accept through the guest's role.
    let sub = fake.default_subscription(&other);
    let reg = fake.add_registry(RegistrySpec::new("guestreg").subscription(&sub.id));
    fake.assign_role(&reg.name, &guest.object_id, Role::AcrPull);
    let token = guest_body["access_token"].as_str().unwrap();
    let exchanged = exchange(&http, &reg.login_server, &other.id, token).await;
    assert_eq!(exchanged.status(), 200);

    let nowhere = refresh_request(&fake, &http, &stranger_tenant.id, &rt, ACR_SCOPE).await;
    assert_entra_error(nowhere, 400, "invalid_grant", 50020).await;
}

#[tokio::test]
async fn expired_sessions_answer_like_entra() {
    let fake = FakeAzure::start().await.unwrap();
    let http = client(&fake);
    let tenant = fake.default_tenant();
    let cases = [
        (700082, "invalid_grant", "inactivity"),
        (70008, "invalid_grant", "expired"),
        (50173, "invalid_grant", "revoked"),
        (70043, "invalid_grant", "sign-in frequency"),
        (50076, "invalid_grant", "multi-factor"),
        (50079, "invalid_grant", "enroll in multi-factor"),
        (50078, "invalid_grant", "refresh your multi-factor"),
        (65001, "invalid_grant", "consented"),
    ];
    for (code, error, text) in cases {
        let user = fake.add_user(&tenant, &format!("u{code}@contoso.localhost"));
        let rt = fake.issue_user_refresh_token(&user, AZURE_CLI_CLIENT_ID);
        ok_json(refresh_request(&fake, &http, &tenant.id, &rt, ARM_SCOPE).await).await;
        fake.expire_sessions(&user.object_id, code);
        let failed = refresh_request(&fake, &http, &tenant.id, &rt, ARM_SCOPE).await;
        let body = assert_entra_error(failed, 400, error, u64::from(code)).await;
        let description = body["error_description"].as_str().unwrap();
        assert!(description.contains(text), "{code}: {description}");
        if [50076, 50079, 50078].contains(&code) {
            assert_eq!(body["suberror"], "basic_action", "{code}: {body}");
        }
        // A new sign-in works again.
        let fresh = fake.issue_user_refresh_token(&user, AZURE_CLI_CLIENT_ID);
        ok_json(refresh_request(&fake, &http, &tenant.id, &fresh, ARM_SCOPE).await).await;
    }
}

#[tokio::test]
async fn public_clients_must_not_send_a_secret() {
    let fake = FakeAzure::start().await.unwrap();
    let http = client(&fake);
    let user = fake.add_user(&fake.default_tenant(), "bob@contoso.localhost");
    let rt = fake.issue_user_refresh_token(&user, AZURE_CLI_CLIENT_ID);
    let response = token_request(
        &fake,
        &http,
        "organizations",
        &[
            ("grant_type", "refresh_token"),
            ("client_id", AZURE_CLI_CLIENT_ID),
            ("client_secret", "nope"),
            ("refresh_token", &rt),
            ("scope", ARM_SCOPE),
        ],
    )
    .await;
    assert_entra_error(response, 401, "invalid_client", 700025).await;
}

#[tokio::test]
async fn issue_access_token_mints_for_any_principal() {
    let fake = FakeAzure::start().await.unwrap();
    let http = client(&fake);
    let tenant = fake.default_tenant();
    let user = fake.add_user(&tenant, "carol@contoso.localhost");
    let sp = fake.add_service_principal(&tenant);
    let mi = fake.add_managed_identity(&tenant);
    let (token, expires) =
        fake.issue_access_token(&user.object_id, &tenant.id, "https://management.azure.com/");
    let claims = jwt_claims(&token);
    assert_eq!(claims["upn"], user.upn);
    assert_eq!(claims["exp"], expires.timestamp());
    let subs = http
        .get(format!(
            "{}subscriptions?api-version=2022-12-01",
            fake.arm_url()
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(subs.status(), 200);
    let (sp_token, _) = fake.issue_access_token(&sp.object_id, &tenant.id, ACR_SCOPE);
    let claims = jwt_claims(&sp_token);
    assert_eq!(claims["aud"], "https://containerregistry.azure.net");
    assert_eq!(claims["appid"], sp.client_id);
    let (mi_token, _) = fake.issue_access_token(
        &mi.object_id,
        &tenant.id,
        "https://containerregistry.azure.net",
    );
    assert_eq!(jwt_claims(&mi_token)["xms_mirid"], mi.resource_id);
}

/// A Conditional-Access sign-in frequency counts from the interactive sign-in that began a
/// refresh token's chain: rotations do not extend it, a new sign-in starts over, and the error
/// names the limit in seconds.
#[tokio::test]
async fn sign_in_frequency_ends_a_chain_after_its_limit() {
    // A clock that moves only with advance_clock, so the boundary is exact.
    let start = chrono::DateTime::parse_from_rfc3339("2026-03-02T09:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let fake = FakeAzure::builder()
        .time_source(move || start)
        .start()
        .await
        .unwrap();
    let http = client(&fake);
    let tenant = fake.default_tenant();
    let other = fake.add_tenant();
    let user = fake.add_user(&tenant, "sif@contoso.localhost");
    fake.add_guest(&user, &other);
    let minute = std::time::Duration::from_secs(60);

    // A chain begun by a device-code sign-in.
    fake.set_device_code_auto_approve(Some((user.clone(), 0)));
    let flow = ok_json(
        http.post(format!(
            "{}/organizations/oauth2/v2.0/devicecode",
            fake.authority_url()
        ))
        .form(&[
            ("client_id", AZURE_CLI_CLIENT_ID),
            ("scope", ARM_USER_SCOPE),
        ])
        .send()
        .await
        .unwrap(),
    )
    .await;
    let signed_in = ok_json(
        token_request(
            &fake,
            &http,
            "organizations",
            &[
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                ("client_id", AZURE_CLI_CLIENT_ID),
                ("device_code", flow["device_code"].as_str().unwrap()),
            ],
        )
        .await,
    )
    .await;
    let first = signed_in["refresh_token"].as_str().unwrap().to_owned();

    fake.set_sign_in_frequency(&tenant.id, Some(std::time::Duration::from_secs(3600)));
    // Rotate twice within the hour; each rotation keeps the chain's sign-in time.
    fake.advance_clock(20 * minute);
    let body = ok_json(refresh_request(&fake, &http, &tenant.id, &first, ARM_SCOPE).await).await;
    let second = body["refresh_token"].as_str().unwrap().to_owned();
    fake.advance_clock(40 * minute);
    // Exactly the limit: still allowed.
    let body =
        ok_json(refresh_request(&fake, &http, "organizations", &second, ARM_SCOPE).await).await;
    let third = body["refresh_token"].as_str().unwrap().to_owned();
    // The tenant without a policy (the guest's resource tenant) is not affected.
    fake.advance_clock(std::time::Duration::from_secs(1));
    ok_json(refresh_request(&fake, &http, &other.id, &third, ARM_SCOPE).await).await;

    // One second over the limit: every token of the chain, old or new, is refused.
    for rt in [&first, &second, &third] {
        let failed = refresh_request(&fake, &http, &tenant.id, rt, ARM_SCOPE).await;
        let body = assert_entra_error(failed, 400, "invalid_grant", 70043).await;
        let description = body["error_description"].as_str().unwrap();
        let first_line = description.lines().next().unwrap();
        assert_eq!(
            first_line,
            "AADSTS70043: The refresh token has expired or is invalid due to sign-in frequency \
             checks by conditional access. The token was issued on 2026-03-02T09:00:00Z and the \
             maximum allowed lifetime for this request is 3600."
        );
    }

    // A new interactive sign-in starts a new chain.
    let fresh = fake.issue_user_refresh_token(&user, AZURE_CLI_CLIENT_ID);
    let body = ok_json(refresh_request(&fake, &http, &tenant.id, &fresh, ARM_SCOPE).await).await;
    let fresh_rotated = body["refresh_token"].as_str().unwrap().to_owned();
    fake.advance_clock(61 * minute);
    let failed = refresh_request(&fake, &http, &tenant.id, &fresh_rotated, ARM_SCOPE).await;
    let body = assert_entra_error(failed, 400, "invalid_grant", 70043).await;
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("issued on 2026-03-02T10:00:01Z")
    );

    // A policy on the guest's tenant applies to tokens for that tenant only.
    fake.set_sign_in_frequency(&other.id.to_ascii_uppercase(), Some(minute));
    fake.set_sign_in_frequency(&tenant.id, None);
    ok_json(refresh_request(&fake, &http, &tenant.id, &fresh_rotated, ARM_SCOPE).await).await;
    let failed = refresh_request(&fake, &http, &other.id, &fresh_rotated, ARM_SCOPE).await;
    let body = assert_entra_error(failed, 400, "invalid_grant", 70043).await;
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("maximum allowed lifetime for this request is 60.")
    );

    // The scripted session expiry keeps its own 12-hour text.
    fake.set_sign_in_frequency(&other.id, None);
    fake.expire_sessions(&user.object_id, 70043);
    let failed = refresh_request(&fake, &http, &tenant.id, &fresh_rotated, ARM_SCOPE).await;
    let body = assert_entra_error(failed, 400, "invalid_grant", 70043).await;
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("maximum allowed lifetime for this request is 43200.")
    );
}
