//! `acr-tray-cli`: see the library crate for everything.

fn main() {
    let code = acr_tray_cli::run(std::env::args_os(), acr_tray_cli::Context::from_process());
    std::process::exit(code);
}
