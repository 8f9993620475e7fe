//! Helpers shared by the real-client tests.

use acr_tray_tests::World;
use acr_tray_tests::real::RealRegistry;
use acr_tray_tests::real::clients::Run;
use base64::Engine as _;
use fake_azure::ServicePrincipal;

/// A world with a new service principal that may push to a new real registry.
pub fn pusher(name: &str) -> (World, ServicePrincipal, RealRegistry) {
    let w = World::new();
    let sp = w.service_principal();
    let reg = RealRegistry::start(&w, name);
    w.fake
        .assign_role(reg.name(), &sp.object_id, fake_azure::Role::AcrPush);
    (w, sp, reg)
}

/// Signs `sp` in, adds the registry and refreshes: Docker's config then holds our entry.
pub fn refresh_into_docker(w: &World, sp: &ServicePrincipal, reg: &RealRegistry) {
    w.login(sp).expect_code(0);
    w.cli(&["registry", "add", reg.name()]).expect_code(0);
    w.cli(&["refresh"]).expect_code(0);
}

/// Panics with the command's output and the registry's log unless the command succeeded.
#[track_caller]
pub fn ok(run: Run, reg: &RealRegistry) -> Run {
    assert!(
        run.ok(),
        "{run}\n--- distribution log ---\n{}",
        reg.log_text()
    );
    run
}

/// Pulls `remote` (tag `1`) with skopeo through Docker's config in `docker` into an OCI layout
/// under `work`, and returns the files of its one layer.
pub fn pulled_files(
    clients: &acr_tray_tests::real::clients::Clients,
    docker: &std::path::Path,
    remote: &str,
    work: &std::path::Path,
    reg: &RealRegistry,
) -> Vec<(String, Vec<u8>)> {
    let pulled = work.join("pulled");
    let dest = format!("oci:{}:1", pulled.display());
    ok(clients.skopeo_copy(docker, remote, &dest), reg);
    acr_tray_tests::real::oci::OciImage::read_files(&pulled, "1")
}

/// A Docker config folder whose config.json holds Basic credentials for one registry.
pub fn basic_auth_config(login_server: &str, user: &str, password: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let config = serde_json::json!({"auths": {login_server: {"auth": auth}}});
    std::fs::write(dir.path().join("config.json"), config.to_string()).unwrap();
    dir
}

/// Whether a client's failure output says "no permission".
pub fn says_denied(run: &Run) -> bool {
    let text = format!("{}{}", run.stdout, run.stderr).to_lowercase();
    ["denied", "unauthorized", "authentication required"]
        .iter()
        .any(|w| text.contains(w))
}

/// Another identity (AcrPush, Basic credentials appId:secret, as ACR takes) pushes a one-file
/// image (`app.txt` = `v1`) to `remote`. Returns its Docker config folder and the image.
pub fn seed_image(
    w: &World,
    clients: &acr_tray_tests::real::clients::Clients,
    reg: &RealRegistry,
    work: &std::path::Path,
    remote: &str,
) -> (tempfile::TempDir, acr_tray_tests::real::oci::OciImage) {
    let pusher = w.service_principal();
    w.fake
        .assign_role(reg.name(), &pusher.object_id, fake_azure::Role::AcrPush);
    let seed = basic_auth_config(&reg.login_server, &pusher.client_id, &pusher.secret);
    let image =
        acr_tray_tests::real::oci::OciImage::build(&work.join("v1"), "1", "app.txt", b"v1\n");
    ok(
        clients.skopeo_copy(seed.path(), &image.reference(), remote),
        reg,
    );
    (seed, image)
}

/// A push to `remote` through Docker's config in `docker` is refused by the registry, and
/// nothing arrives (as the seeding identity, through `seed`, sees).
#[track_caller]
pub fn push_is_refused(
    clients: &acr_tray_tests::real::clients::Clients,
    docker: &std::path::Path,
    seed: &std::path::Path,
    remote: &str,
    work: &std::path::Path,
) {
    let v2 = acr_tray_tests::real::oci::OciImage::build(&work.join("v2"), "2", "app.txt", b"v2\n");
    let push = clients
        .skopeo_copy(docker, &v2.reference(), remote)
        .expect_failure();
    assert!(says_denied(&push), "{push}");
    eprintln!("the push was refused:\n{}", push.stderr);
    let missing = clients.skopeo_inspect(seed, remote, false);
    assert!(!missing.ok(), "nothing was pushed: {missing}");
}

/// A new real registry `name` holding `team/app:1` (`app.txt` = `v1`), pushed by another
/// identity, with skopeo set up to reach it.
pub struct Seeded {
    pub w: World,
    pub reg: RealRegistry,
    pub clients: acr_tray_tests::real::clients::Clients,
    pub work: tempfile::TempDir,
    seed: tempfile::TempDir,
    image: acr_tray_tests::real::oci::OciImage,
}

impl Seeded {
    pub fn new(name: &str) -> Self {
        let w = World::new();
        let reg = RealRegistry::start(&w, name);
        let clients = acr_tray_tests::real::clients::Clients::new(&w);
        clients.add_host(&reg.login_server);
        let work = tempfile::tempdir().unwrap();
        let remote = format!("docker://{}/team/app:1", reg.login_server);
        let (seed, image) = seed_image(&w, &clients, &reg, work.path(), &remote);
        Self {
            w,
            reg,
            clients,
            work,
            seed,
            image,
        }
    }

    /// `team/app:TAG` on the registry, as skopeo names it.
    pub fn remote(&self, tag: &str) -> String {
        format!("docker://{}/team/app:{tag}", self.reg.login_server)
    }

    /// The seeded image's manifest digest (`sha256:…`).
    pub fn manifest_digest(&self) -> &str {
        &self.image.manifest_digest
    }

    /// With what ACR Tray wrote into Docker's config, the seeded image pulls, and a push is
    /// refused by the registry.
    #[track_caller]
    pub fn pulls_but_cannot_push(&self) {
        let (clients, reg, work) = (&self.clients, &self.reg, self.work.path());
        let docker = self.w.home.docker_dir();
        let inspect = ok(
            clients.skopeo_inspect(docker, &self.remote("1"), false),
            reg,
        )
        .json();
        assert_eq!(inspect["Digest"], self.image.manifest_digest.as_str());
        assert_eq!(
            pulled_files(clients, docker, &self.remote("1"), work, reg),
            vec![("app.txt".to_owned(), b"v1\n".to_vec())]
        );
        push_is_refused(clients, docker, self.seed.path(), &self.remote("2"), work);
    }
}

/// Builds a one-file image (`hello.txt` = `content`) under `work` and pushes it to `remote` as
/// skopeo, with Docker's config in `docker`.
pub fn push_hello(
    clients: &acr_tray_tests::real::clients::Clients,
    docker: &std::path::Path,
    reg: &RealRegistry,
    work: &std::path::Path,
    remote: &str,
    content: &[u8],
) -> acr_tray_tests::real::oci::OciImage {
    let image =
        acr_tray_tests::real::oci::OciImage::build(&work.join("src"), "1", "hello.txt", content);
    ok(clients.skopeo_copy(docker, &image.reference(), remote), reg);
    image
}
