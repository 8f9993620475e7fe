//! Whole-message snapshots of what the CLI prints (insta): a test asserts the whole of a message,
//! so a changed, lost or extra sentence fails it. What differs from run to run is replaced by a
//! name before the comparison: values the test names (a client id as `[CLIENT-ID]`, …), the
//! world's folders (`[HOME]`, `[DOCKER]`, `[FAKE]`, any other temporary folder `[TMP]`),
//! the fake's and loopback ports (`[PORT]`), other GUIDs but the zero GUID (`[GUID]`), times
//! (`[TIME]`, a time of day alone `[CLOCK]`, a file name's `[STAMP]`) and how far they are from
//! now (`in [SPAN]`, `[SPAN] ago`), certificate thumbprints, the system's error numbers.
//! The snapshots are in `snapshots/` beside the tests; tests/README.md says how to review and
//! update them.

use std::path::Path;

/// Asserts the whole of `$text` against the snapshot `$name` of the calling test's module, with
/// what varies in `$world` (a `World` or a `Sim`) replaced. `$named` (a
/// `Vec<(String, &str)>`, e.g. [`names_of`]) names values the test knows (a client id, a tenant)
/// before the generic replacements, so the snapshot shows which id stands where.
macro_rules! assert_message {
    ($world:expr, $name:literal, $text:expr) => {
        assert_message!($world, $name, $text, Vec::new())
    };
    ($world:expr, $name:literal, $text:expr, $named:expr) => {{
        let world = &$world;
        let named: Vec<(String, &str)> = $named;
        $crate::snapshot::settings(
            &named,
            world.home.path(),
            world.home.docker_dir(),
            &world.fake,
        )
        .bind(|| insta::assert_snapshot!($name, $text))
    }};
}

/// A service principal's client id and tenant, named `[CLIENT-ID]` and `[TENANT]`.
pub fn names_of(sp: &fake_azure::ServicePrincipal) -> Vec<(String, &'static str)> {
    vec![
        (sp.client_id.clone(), "[CLIENT-ID]"),
        (sp.tenant.clone(), "[TENANT]"),
    ]
}

/// Insta's settings with the filters that replace what varies between runs, applied in order:
/// `named` values first, then the folders, ports, GUIDs and times.
pub fn settings(
    named: &[(String, &str)],
    home: &Path,
    docker: &Path,
    fake: &fake_azure::FakeAzure,
) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    for (value, name) in named {
        settings.add_filter(&regex_escape(value), *name);
    }
    let fake_dir = fake.ca_path().parent().unwrap_or(fake.ca_path());
    // The longest first: a folder inside another is named as itself.
    let mut folders = [(home, "[HOME]"), (docker, "[DOCKER]"), (fake_dir, "[FAKE]")];
    folders.sort_by_key(|(path, _)| std::cmp::Reverse(path.as_os_str().len()));
    for (path, name) in folders {
        settings.add_filter(&regex_escape(&path.display().to_string()), name);
    }
    let temp = std::env::temp_dir().display().to_string();
    let temp = regex_escape(temp.trim_end_matches(['/', '\\']));
    settings.add_filter(&format!(r"{temp}[/\\]\.tmp[0-9A-Za-z]+"), "[TMP]");
    settings.add_filter(&format!(r":{}\b", fake.port()), ":[PORT]");
    settings.add_filter(r"\b(localhost|127\.0\.0\.1|\[::1\]):\d{1,5}\b", "$1:[PORT]");
    settings.add_filter(
        r"(localhost|127\.0\.0\.1|%5B%3A%3A1%5D)%3A\d{1,5}\b",
        "$1%3A[PORT]",
    );
    // What a sign-in URL carries fresh each time.
    settings.add_filter(
        r"\b(state|nonce|code_challenge)=[0-9A-Za-z_~.-]+",
        "$1=[RANDOM]",
    );
    // The zero GUID means something (ACR's user name for tokens, a sample resource id): kept.
    const ZERO: &str = "00000000-0000-0000-0000-000000000000";
    settings.add_filter(ZERO, "<zero guid>");
    settings.add_filter(
        r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b",
        "[GUID]",
    );
    settings.add_filter("<zero guid>", ZERO);
    settings.add_filter(
        r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2}| UTC)?",
        "[TIME]",
    );
    // A backup's time stamp, and a time of day alone (`run` prints each event's).
    settings.add_filter(r"\b\d{8}T\d{6}(\.\d+)?Z\b", "[STAMP]");
    settings.add_filter(r"\b\d{2}:\d{2}(:\d{2})?\b", "[CLOCK]");
    // A certificate's thumbprint (SHA-1 or SHA-256, in hex): the test certificates are new
    // each run.
    settings.add_filter(
        r"\b([0-9A-F]{64}|[0-9a-f]{64}|[0-9A-F]{40}|[0-9a-f]{40})\b",
        "[THUMBPRINT]",
    );
    // The operating system's number for an error differs between systems.
    settings.add_filter(r"\(os error \d+\)", "(os error [N])");
    // How far a time is from now, as the CLI says it beside one (`in 2h 58m`, `5m ago`).
    settings.add_filter(r"\(in \d+(h \d+)?m\)", "(in [SPAN])");
    settings.add_filter(r"\((just now|\d+(h \d+)?m ago)\)", "([SPAN] ago)");
    settings
}

/// `text` as a regular expression that matches it literally.
fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
