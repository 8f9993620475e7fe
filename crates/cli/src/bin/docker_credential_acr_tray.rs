//! `docker-credential-acr-tray`: see `acr_tray_cli::credential_helper`. A `get` that must
//! refresh runs in `acr-tray-cli`, installed next to this program.

fn main() {
    let cli = acr_tray_cli::credential_helper::cli_next_to_this_program();
    let code = acr_tray_cli::credential_helper::run_standalone(std::env::args().collect(), &cli);
    std::process::exit(code);
}
