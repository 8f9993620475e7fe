//! `acr-tray-cli` for the tests that run it as a process (`run` as a daemon: signals, the
//! single-engine lock): the same code as the product's binary.

fn main() {
    let code = acr_tray_cli::run(std::env::args_os(), acr_tray_cli::Context::from_process());
    std::process::exit(code);
}
