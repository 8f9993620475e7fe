//! `docker-credential-acr-tray` for the real-client tests (which only know the binaries of
//! their own package): the same code as the product's binary.

fn main() {
    let code = acr_tray_cli::credential_helper::run(
        std::env::args().collect(),
        acr_tray_cli::Context::from_process(),
    );
    std::process::exit(code);
}
