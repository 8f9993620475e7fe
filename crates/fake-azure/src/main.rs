//! `fake-azure`: runs the fake until Ctrl-C, for manual testing of the product.

use anyhow::Result;
use clap::Parser;
use fake_azure::{FakeAzure, RegistrySpec, Role};

/// A fake of Entra ID, ARM and ACR token servers over TLS on 127.0.0.1.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Port on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Domain for login.<d>, management.<d> and <registry>.azurecr.<d>.
    #[arg(long, default_value = "localhost")]
    base_domain: String,
    /// Registries to create (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "myreg")]
    registries: Vec<String>,
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let fake = FakeAzure::builder()
        .base_domain(&args.base_domain)
        .port(args.port)
        .start()
        .await?;
    let tenant = fake.default_tenant();
    let subscription = fake.default_subscription(&tenant);
    let sp = fake.add_service_principal(&tenant);
    let user = fake.add_user(&tenant, &format!("user@{}", args.base_domain));
    let public_client = fake_azure::AZURE_CLI_CLIENT_ID;
    let user_rt = fake.issue_user_refresh_token(&user, public_client);
    // Browser and device-code sign-ins (the /device page) sign this user in.
    fake.set_browser_user(Some(user.clone()));
    let mi = fake.add_managed_identity(&tenant);
    fake.set_system_assigned_identity(Some(mi.clone()));

    println!("fake-azure listening on {}", fake.addr());
    println!("  Entra authority : {}", fake.authority_url());
    println!("  ARM             : {}", fake.arm_url());
    println!("  ACR suffix      : {}", fake.acr_suffix());
    println!("  IMDS            : {}", fake.imds_url());
    println!("  CA certificate  : {}", fake.ca_path().display());
    println!(
        "  ACR token cert  : {}",
        fake.acr_signing_cert_path().display()
    );
    println!("  tenant          : {}", tenant.id);
    println!("  subscription    : {}", subscription.id);
    println!(
        "  service principal: client id {} secret {}",
        sp.client_id, sp.secret
    );
    println!(
        "  user            : {} (object id {})",
        user.upn, user.object_id
    );
    println!("  user refresh token for client {public_client}:\n    {user_rt}");
    println!(
        "  (browser and device-code sign-ins sign in as {})",
        user.upn
    );
    println!(
        "  managed identity: client id {} object id {} (system-assigned)",
        mi.client_id, mi.object_id
    );
    for name in args.registries.iter().filter(|n| !n.is_empty()) {
        let reg = fake.add_registry(RegistrySpec::new(name.clone()));
        for oid in [&sp.object_id, &user.object_id, &mi.object_id] {
            fake.assign_role(&reg.name, oid, Role::AcrPush);
            fake.assign_role(&reg.name, oid, Role::Reader);
        }
        println!(
            "  registry        : {} (AcrPush + Reader for these identities)",
            reg.login_server
        );
    }
    let mut hosts = fake.service_hosts();
    hosts.extend(
        args.registries
            .iter()
            .map(|n| format!("{}.{}", n.to_ascii_lowercase(), fake.acr_suffix_host())),
    );
    if fake.base_domain() == "localhost" {
        println!(
            "\nacr-tray-cli (like curl and browsers) resolves *.localhost to 127.0.0.1 itself (RFC 6761);\nother clients may need these hosts mapped to 127.0.0.1: {}",
            hosts.join(" ")
        );
    } else {
        println!(
            "\nMap these hosts to 127.0.0.1 (e.g. in /etc/hosts): {}",
            hosts.join(" ")
        );
    }
    println!("\nPoint the product at it and sign in:");
    println!(
        "  acr-tray-cli cloud set custom --authority {} --arm {} --acr-suffix {} --ca-file {}",
        fake.authority_url(),
        fake.arm_url(),
        fake.acr_suffix(),
        fake.ca_path().display()
    );
    println!(
        "  printf %s '{}' | acr-tray-cli login --service-principal --tenant {} --client-id {} --secret-stdin",
        sp.secret, tenant.id, sp.client_id
    );
    for name in args.registries.iter().filter(|n| !n.is_empty()) {
        println!("  acr-tray-cli registry add {name}");
    }
    println!("  acr-tray-cli refresh && acr-tray-cli status");
    println!(
        "\nOr the Azure CLI (a config dir of its own; scripts/az-check.sh does this as a test):"
    );
    println!(
        "  export AZURE_CONFIG_DIR=\"$(mktemp -d)\" REQUESTS_CA_BUNDLE={} AZURE_CORE_INSTANCE_DISCOVERY=false",
        fake.ca_path().display()
    );
    println!(
        "  az cloud register -n FakeCloud --endpoint-resource-manager {} && az cloud set -n FakeCloud",
        fake.arm_url()
    );
    println!(
        "  az login --service-principal -u {} -p '{}' --tenant {}",
        sp.client_id, sp.secret, tenant.id
    );
    for name in args.registries.iter().filter(|n| !n.is_empty()) {
        println!("  az acr login -n {name} --expose-token");
    }
    println!("\nCtrl-C to stop.");
    tokio::signal::ctrl_c().await?;
    fake.shutdown().await;
    Ok(())
}
