//! WebKit's helper processes once the settings window is gone (Linux).
//!
//! WebKitGTK renders each page in a `WebKitWebProcess`, which exits with its webview, but keeps
//! one `WebKitNetworkProcess` per data store until the app exits: about 60 MiB RSS (15 MiB of
//! it private) held all day for a window that was open for a minute. When the last webview is
//! destroyed, [`last_webview_gone`] ends our network process; WebKit starts a fresh one when a
//! window opens again.
//!
//! The window also leaves code behind in our own process: WebKit's and JavaScriptCore's, and
//! the GL driver WebKit loaded for it (Mesa; with llvmpipe 44 MiB of libLLVM). Nothing runs that
//! code once the window is gone, but its pages stay resident. Once the network process is
//! ended, `page_out_window_code` asks the kernel to reclaim them (`MADV_PAGEOUT`): clean file
//! pages are simply dropped, and read back from the page cache if the window opens again. The
//! tray then costs what it cost before the window was first opened (docs/benchmarks.md).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tauri::{AppHandle, Manager, Runtime};

/// The program WebKitGTK runs for its network stack.
const NETWORK_PROCESS: &str = "WebKitNetworkProcess";

/// How long after the window is destroyed the network process is ended: WebKit finishes its
/// own teardown first (the web process exits, cookies and caches are flushed).
const GRACE: Duration = Duration::from_secs(2);

/// Called when the app starts in the tray only: the dynamic loader read WebKit's (and its
/// speech synthesiser's) relocation tables at start, which leaves megabytes of their pages
/// resident though no window exists; after `GRACE`, unless a window opened meanwhile, they
/// are paged out like the window's code is when it closes.
pub fn started_without_window<R: Runtime>(app: &AppHandle<R>) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(GRACE).await;
        if app.webview_windows().is_empty() {
            let (mappings, bytes) = page_out_window_code();
            tracing::debug!(
                mappings,
                mib = bytes / (1024 * 1024),
                "paged out WebKit's code"
            );
        }
    });
}

/// Settings windows created so far ([`window_opening`]); a close compares it at the end of its
/// grace period, so a window opened meanwhile keeps its network process.
static WINDOWS_OPENED: AtomicU64 = AtomicU64::new(0);

/// Called (on any thread) just before a settings window is created.
pub fn window_opening() {
    WINDOWS_OPENED.fetch_add(1, Ordering::SeqCst);
}

/// Called when a window is destroyed: unless a webview is left (or opened meanwhile), ends
/// WebKit's network process after `GRACE`.
///
/// The check and the signal run on the main thread, where WebKit creates webviews and spawns
/// their network process: no window can start between them. A window being built from
/// another thread counts from [`window_opening`] on, before the main thread creates it.
pub fn last_webview_gone<R: Runtime>(app: &AppHandle<R>) {
    let app = app.clone();
    let opened = WINDOWS_OPENED.load(Ordering::SeqCst);
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(GRACE).await;
        let handle = app.clone();
        let scheduled = app.run_on_main_thread(move || {
            if WINDOWS_OPENED.load(Ordering::SeqCst) != opened
                || !handle.webview_windows().is_empty()
            {
                return;
            }
            for (pid, result) in end_children(NETWORK_PROCESS) {
                match result {
                    Ok(()) => {
                        tracing::info!(pid, "ended the WebKit network process (no window left)")
                    }
                    Err(e) => {
                        tracing::warn!(pid, error = %e, "cannot end the WebKit network process")
                    }
                }
            }
            // Off the main thread: paging out takes a while and the tray must stay responsive.
            tauri::async_runtime::spawn_blocking(|| {
                let (mappings, bytes) = page_out_window_code();
                tracing::info!(
                    mappings,
                    mib = bytes / (1024 * 1024),
                    "paged out the code only the window used"
                );
            });
        });
        if let Err(e) = scheduled {
            tracing::warn!(error = %e, "cannot end the WebKit network process");
        }
    });
}

/// Libraries only a webview uses: WebKit, JavaScriptCore, their speech synthesiser (flite) and
/// ICU, GStreamer, and the GL stack WebKit loads (Mesa's EGL/GLX, DRI/Gallium drivers, LLVM).
fn window_only(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    const PREFIXES: [&str; 11] = [
        "libwebkit2gtk",
        "libjavascriptcoregtk",
        "libflite",
        "libicui18n",
        "libgst",
        "libLLVM",
        "libEGL_mesa",
        "libGLX_mesa",
        "libgallium",
        "libglapi",
        "libvulkan",
    ];
    PREFIXES.iter().any(|p| name.starts_with(p)) || path.contains("/dri/")
}

/// One line of `/proc/self/maps`: its address range and path, if it maps a file.
fn mapping(line: &str) -> Option<(usize, usize, &str)> {
    let mut fields = line.split_ascii_whitespace();
    let range = fields.next()?;
    let path = fields.nth(4)?;
    if !path.starts_with('/') {
        return None;
    }
    let (start, end) = range.split_once('-')?;
    let start = usize::from_str_radix(start, 16).ok()?;
    let end = usize::from_str_radix(end, 16).ok()?;
    (end > start).then_some((start, end, path))
}

/// Asks the kernel to page out the mappings of [`window_only`] libraries; returns how many
/// mappings and bytes were handed over (the kernel keeps pages other processes share).
#[allow(unsafe_code)]
fn page_out_window_code() -> (usize, usize) {
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        return (0, 0);
    };
    let (mut count, mut bytes) = (0, 0);
    for (start, end, _) in maps
        .lines()
        .filter_map(mapping)
        .filter(|(_, _, path)| window_only(path))
    {
        // SAFETY: MADV_PAGEOUT only moves pages out of memory; their contents are unchanged
        // (file pages are read back, private ones come back from swap or are kept), so no
        // reference into these mappings is invalidated. The range is one whole mapping of this
        // process, page-aligned as /proc/self/maps lists it.
        let done = unsafe {
            rustix::mm::madvise(
                start as *mut std::ffi::c_void,
                end - start,
                rustix::mm::Advice::LinuxPageOut,
            )
        };
        if done.is_ok() {
            count += 1;
            bytes += end - start;
        }
    }
    (count, bytes)
}

/// Sends SIGTERM to each of this process's children running `program`; returns their pids
/// with the outcome.
fn end_children(program: &str) -> Vec<(i32, std::io::Result<()>)> {
    let me = std::process::id();
    let Ok(proc_dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut ended = Vec::new();
    for entry in proc_dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        if !is_child_running(pid, me, program) {
            continue;
        }
        ended.push((pid, terminate(pid, me, program)));
    }
    ended
}

/// SIGTERM through a pidfd, checked again once the pidfd is open: the signal cannot reach
/// another process that reused the pid in between.
fn terminate(pid: i32, me: u32, program: &str) -> std::io::Result<()> {
    use rustix::process::{Pid, PidfdFlags, Signal, pidfd_open, pidfd_send_signal};
    let pid_ = Pid::from_raw(pid).ok_or(std::io::ErrorKind::InvalidInput)?;
    let fd = pidfd_open(pid_, PidfdFlags::empty())?;
    if !is_child_running(pid, me, program) {
        return Err(std::io::ErrorKind::NotFound.into());
    }
    pidfd_send_signal(&fd, Signal::TERM)?;
    Ok(())
}

/// Whether process `pid` is a child of `parent` running `program`.
fn is_child_running(pid: i32, parent: u32, program: &str) -> bool {
    let ppid = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| parent_pid(&stat));
    if ppid != Some(parent) {
        return false;
    }
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .ok()
        .is_some_and(|cmdline| program_name(&cmdline) == Some(program))
}

/// The parent pid in a `/proc/PID/stat` line (`pid (comm) state ppid ...`; comm may hold
/// spaces and parentheses, so it is skipped up to the last `)`).
fn parent_pid(stat: &str) -> Option<u32> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_ascii_whitespace();
    let _state = fields.next()?;
    fields.next()?.parse().ok()
}

/// The file name of the program in a `/proc/PID/cmdline` (NUL-separated argv).
fn program_name(cmdline: &[u8]) -> Option<&str> {
    let argv0 = cmdline.split(|b| *b == 0).next()?;
    let argv0 = std::str::from_utf8(argv0).ok()?;
    argv0.rsplit('/').next().filter(|name| !name.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_window_only_libraries_from_proc_maps() {
        let line = "7f1c2a000000-7f1c2d000000 r-xp 00000000 08:01 1234 /usr/lib/x86_64-linux-gnu/libLLVM-15.so.1";
        assert_eq!(
            mapping(line),
            Some((
                0x7f1c_2a00_0000,
                0x7f1c_2d00_0000,
                "/usr/lib/x86_64-linux-gnu/libLLVM-15.so.1"
            ))
        );
        assert_eq!(mapping("7f00-7f10 rw-p 00000000 00:00 0 "), None);
        assert_eq!(mapping("7f00-7f10 rw-p 00000000 00:00 0 [heap]"), None);
        for lib in [
            "/usr/lib/x86_64-linux-gnu/libwebkit2gtk-4.1.so.0.19.9",
            "/usr/lib/x86_64-linux-gnu/libjavascriptcoregtk-4.1.so.0",
            "/usr/lib/x86_64-linux-gnu/dri/swrast_dri.so",
            "/lib/x86_64-linux-gnu/libEGL_mesa.so.0",
        ] {
            assert!(window_only(lib), "{lib}");
        }
        for lib in [
            "/usr/lib/x86_64-linux-gnu/libgtk-3.so.0",
            "/usr/lib/x86_64-linux-gnu/libc.so.6",
            "/usr/bin/acr-tray",
        ] {
            assert!(!window_only(lib), "{lib}");
        }
    }

    #[test]
    fn nothing_is_paged_out_in_a_process_without_webkit() {
        // This test process maps none of those libraries: nothing to do, nothing breaks.
        let (mappings, _) = page_out_window_code();
        assert_eq!(mappings, 0);
    }

    #[test]
    fn reads_the_parent_from_proc_stat() {
        assert_eq!(
            parent_pid("4242 (WebKitNetworkPr) S 4100 4100 7 0 -1"),
            Some(4100)
        );
        assert_eq!(parent_pid("17 (a) b (c) R 1 17 17 0"), Some(1));
        assert_eq!(parent_pid("garbage"), None);
    }

    #[test]
    fn reads_the_program_from_proc_cmdline() {
        let cmdline =
            b"/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/WebKitNetworkProcess\x007\x0031\x00";
        assert_eq!(program_name(cmdline), Some(NETWORK_PROCESS));
        assert_eq!(
            program_name(b"WebKitWebProcess\x00"),
            Some("WebKitWebProcess")
        );
        assert_eq!(program_name(b""), None);
    }

    #[test]
    fn ends_only_its_own_children_running_the_program() {
        use std::io::{BufRead, BufReader, Write};
        use std::process::{Command, Stdio};
        // `cat` echoes a line only once it runs: from then on /proc shows its own argv (between
        // fork and the end of exec a child's cmdline can read empty or still be ours).
        let mut child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let pid = i32::try_from(child.id()).unwrap();
        child
            .stdin
            .as_mut()
            .unwrap()
            .write_all(b"running\n")
            .unwrap();
        let mut echoed = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut echoed)
            .unwrap();
        assert_eq!(echoed, "running\n");
        // Not the program asked for, and not a child of pid 1.
        assert!(end_children(NETWORK_PROCESS).iter().all(|(p, _)| *p != pid));
        assert!(!is_child_running(pid, 1, "cat"));
        assert!(is_child_running(pid, std::process::id(), "cat"));
        let ended = end_children("cat");
        assert!(
            ended.iter().any(|(p, r)| *p == pid && r.is_ok()),
            "{ended:?}"
        );
        let status = child.wait().unwrap();
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(15));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            // A fixed seed (as the engine's property tests): every run tests the same
            // inputs; `PROPTEST_RNG_SEED=N` explores others.
            #![proptest_config(proptest::test_runner::Config {
                cases: 512,
                failure_persistence: None,
                rng_seed: match proptest::test_runner::Config::default().rng_seed {
                    proptest::test_runner::RngSeed::Random => proptest::test_runner::RngSeed::Fixed(0x4143_5254_7261_7931),
                    chosen => chosen,
                },
                ..proptest::test_runner::Config::default()
            })]

            /// Whatever a line of /proc/self/maps holds, a mapping is a non-empty range.
            #[test]
            fn any_maps_line(line in prop_oneof![
                any::<String>(),
                ("[0-9a-fA-F]{0,20}", "[0-9a-fA-F]{0,20}", ".{0,30}", "/?.{0,30}")
                    .prop_map(|(a, b, mid, path)| format!("{a}-{b} {mid} {path}")),
            ]) {
                if let Some((start, end, path)) = mapping(&line) {
                    prop_assert!(end > start);
                    prop_assert!(path.starts_with('/'));
                    let _ = window_only(path);
                }
            }

            /// Printing a maps line and reading it back gives the same range and path.
            #[test]
            fn maps_lines_round_trip(
                start in any::<usize>(),
                len in 1..=usize::MAX,
                path in "/[a-zA-Z0-9._/-]{0,40}",
            ) {
                let end = start.saturating_add(len);
                prop_assume!(end > start);
                let line = format!("{start:x}-{end:x} r-xp 00000000 08:01 1234 {path}");
                prop_assert_eq!(mapping(&line), Some((start, end, path.as_str())));
            }

            /// A stat line's comm may hold anything, parentheses and spaces included.
            #[test]
            fn any_stat_line(
                text in any::<String>(),
                comm in ".{0,16}",
                ppid in any::<u32>(),
            ) {
                let _ = parent_pid(&text);
                prop_assert_eq!(parent_pid(&format!("42 ({comm}) S {ppid} 1 1 0")), Some(ppid));
            }

            #[test]
            fn any_cmdline(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
                if let Some(name) = program_name(&bytes) {
                    prop_assert!(!name.is_empty() && !name.contains('/') && !name.contains('\0'));
                }
            }
        }
    }
}
