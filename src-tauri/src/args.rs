//! The command line of `acr-tray`. Four switches, so no argument library.

/// What `acr-tray --help` prints.
pub const USAGE: &str = "\
Usage: acr-tray [--settings | --hidden] [--demo]

Keeps Docker logged in to Azure Container Registry, from the system tray.

Options:
  --settings   open the settings window at start
  --hidden     start in the tray only (how the login item starts it)
  --demo       run against a built-in fake Azure with a throwaway home folder and Docker config,
               to see the app work without an Azure account
  -h, --help   print this help

The headless engine and every command line operation are in `acr-tray-cli`.";

/// Parsed switches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Args {
    /// Open the settings window at start.
    pub settings: bool,
    /// Never open the window at start.
    pub hidden: bool,
    /// The fake Azure in-process.
    pub demo: bool,
    /// Print the usage.
    pub help: bool,
}

impl Args {
    /// Parses the switches (without the program name).
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut out = Self::default();
        for arg in args {
            match arg.as_str() {
                "--settings" => out.settings = true,
                "--hidden" => out.hidden = true,
                "--demo" => out.demo = true,
                "-h" | "--help" => out.help = true,
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        if out.settings && out.hidden {
            return Err("--settings and --hidden contradict each other".to_owned());
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, String> {
        Args::parse(args.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn switches() {
        assert_eq!(parse(&[]).unwrap(), Args::default());
        assert!(parse(&["--demo", "--settings"]).unwrap().demo);
        assert!(parse(&["--hidden"]).unwrap().hidden);
        assert!(parse(&["--settings", "--hidden"]).is_err());
        assert!(
            parse(&["--frobnicate"])
                .unwrap_err()
                .contains("--frobnicate")
        );
    }
}
