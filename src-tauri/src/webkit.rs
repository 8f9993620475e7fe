//! WebKit's code in the tray's process (Linux). The settings window runs in a process of its
//! own, so this one never runs WebKit; but the binary links it, and the dynamic loader reads
//! WebKit's (and its speech synthesiser's) relocation tables at start, which leaves megabytes
//! of their pages resident. [`tray_started`] and [`window_process_ended`] ask the kernel to
//! reclaim them (`MADV_PAGEOUT`): clean file pages are simply dropped.

/// Called once the tray is set up, before any window's process starts: the pages of WebKit's
/// code the loader touched go now, while they are this process's alone (the kernel leaves a
/// page another process maps too, and the window's process maps the same ones).
pub fn tray_started() {
    let (mappings, bytes) = page_out_window_code();
    tracing::debug!(
        mappings,
        mib = bytes / (1024 * 1024),
        "paged out WebKit's code"
    );
}

/// Called when a window's process has ended: while it ran, it mapped the same WebKit pages,
/// and the kernel pages out only pages no other process maps; now they are this process's
/// alone again, and go.
pub fn window_process_ended() {
    tauri::async_runtime::spawn_blocking(|| {
        let (mappings, bytes) = page_out_window_code();
        tracing::debug!(
            mappings,
            mib = bytes / (1024 * 1024),
            "paged out WebKit's code after the window closed"
        );
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
        }
    }
}
