//! The command line of `acr-tray`. A few switches, so no argument library.

/// What `acr-tray --help` prints.
pub const USAGE: &str = "\
Usage: acr-tray [--settings | --hidden] [--demo]

Keeps Docker logged in to Azure Container Registry, from the system tray.

Options:
  --settings   open the settings window at start
  --hidden     start in the tray only (how the login item starts it)
  --demo       run against a built-in fake Azure with a throwaway home folder and Docker config,
               to see the app work without an Azure account (only in a build with the `demo`
               feature, which packages leave out: `scripts/run.sh --demo` builds one)
  -h, --help   print this help

The headless engine and every command line operation are in `acr-tray-cli`.
(`--window [--at PLACE]` runs the settings window's own process; the tray starts it.)";

/// Why `--demo` is refused by a build without the fake Azure.
const NO_DEMO: &str = "this build has no demo (packages leave the fake Azure out): run \
`scripts/run.sh --demo` from the source tree, or build with `cargo build -p acr-tray --features demo`";

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
    /// Be the settings window's process (started by the tray, which talks to it over its
    /// stdin and stdout).
    pub window: bool,
    /// With `window`: where the window opens (the start page's fragment,
    /// `view=accounts&identity=…`).
    pub at: Option<String>,
}

impl Args {
    /// Parses the switches (without the program name).
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        Self::parse_for(args, cfg!(feature = "demo"))
    }

    /// Parses the switches for a build with or without the demo (`demo_built`): `--demo` where
    /// the fake Azure is not built in is refused, never run against the user's real Azure.
    fn parse_for(args: impl IntoIterator<Item = String>, demo_built: bool) -> Result<Self, String> {
        let mut out = Self::default();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--window" => out.window = true,
                "--at" => out.at = Some(args.next().ok_or("--at needs a place")?),
                "--settings" => out.settings = true,
                "--hidden" => out.hidden = true,
                "--demo" if !demo_built => return Err(NO_DEMO.to_owned()),
                "--demo" => out.demo = true,
                "-h" | "--help" => out.help = true,
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        if out.settings && out.hidden {
            return Err("--settings and --hidden contradict each other".to_owned());
        }
        if out.at.is_some() && !out.window {
            return Err("--at is for --window".to_owned());
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
        let window = parse(&["--window", "--at", "view=general"]).unwrap();
        assert!(window.window);
        assert_eq!(window.at.as_deref(), Some("view=general"));
        assert!(parse(&["--window", "--at"]).is_err());
        assert!(parse(&["--at", "view=general"]).is_err());
        assert!(
            parse(&["--frobnicate"])
                .unwrap_err()
                .contains("--frobnicate")
        );
    }

    #[test]
    fn a_build_without_the_demo_refuses_demo_and_says_how_to_get_it() {
        let without = |a: &[&str]| Args::parse_for(a.iter().map(|s| (*s).to_owned()), false);
        let refused = without(&["--demo"]).unwrap_err();
        assert!(refused.contains("--features demo"), "{refused}");
        assert!(refused.contains("scripts/run.sh --demo"), "{refused}");
        assert!(without(&["--settings"]).unwrap().settings);
    }
}
