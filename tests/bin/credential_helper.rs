//! `docker-credential-acr-tray` for the tests that run it as a process (real clients, and the
//! helper's own process tests, which only know the binaries of their own package): the same
//! code as the product's binary, handing a refresh to this package's `acr-tray-cli-e2e` (the
//! same code as `acr-tray-cli`) next to it.

fn main() {
    let name = format!("acr-tray-cli-e2e{}", std::env::consts::EXE_SUFFIX);
    let cli = std::env::current_exe()
        .map(|exe| exe.with_file_name(&name))
        .unwrap_or_else(|_| name.into());
    let code = acr_tray_cli::credential_helper::run_standalone(std::env::args().collect(), &cli);
    std::process::exit(code);
}
