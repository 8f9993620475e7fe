//! `docker-credential-acr-tray`: see `acr_tray_cli::credential_helper`.

fn main() {
    let code = acr_tray_cli::credential_helper::run(
        std::env::args().collect(),
        acr_tray_cli::Context::from_process(),
    );
    std::process::exit(code);
}
