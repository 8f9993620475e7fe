//! Atomic file replacement, the way Docker saves its config (docs/protocol.md#docker-config-write):
//! a temp file in the same folder, fsync, the old file's mode (and owner) copied, rename over the
//! target, and symlinks followed so the link itself survives.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Follows a chain of symlinks to the file that should be replaced. A dangling link resolves
/// to its target path, so the write creates the file the link points to.
pub fn resolve_symlinks(path: &Path) -> Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target =
                    fs::read_link(&current).map_err(|e| Error::io("read", &current, &e))?;
                current = match current.parent() {
                    Some(parent) if target.is_relative() => parent.join(target),
                    _ => target,
                };
            }
            Ok(_) => return Ok(current),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(current),
            Err(e) => return Err(Error::io("inspect", &current, &e)),
        }
    }
    Err(Error::Io {
        path: path.to_path_buf(),
        operation: "resolve".to_owned(),
        detail: "too many levels of symbolic links".to_owned(),
    })
}

/// Replaces `path` with `contents` atomically. A new file (and a new parent folder) is made
/// readable by the user only; an existing file keeps its mode and owner.
pub fn atomic_write(path: &Path, contents: &[u8]) -> Result<()> {
    let target = resolve_symlinks(path)?;
    let (dir, tmp) = stage(&target, contents)?;
    tmp.persist(&target)
        .map_err(|e| Error::io("replace", &target, &e.error))?;
    sync_dir(&dir);
    Ok(())
}

/// What [`replace_if_unchanged`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replace {
    /// The file held what the caller expected and now holds the new contents.
    Done,
    /// The file no longer held what the caller expected; nothing was written. Its contents
    /// now (`None`: it is gone).
    Changed(Option<Vec<u8>>),
    /// Another program saved the file in the instant between the check and the swap. The new
    /// contents are in place and these are the contents they displaced: merge them and write
    /// again, or that program's change is lost.
    Displaced(Vec<u8>),
}

/// Like [`atomic_write`], for a file other programs also rewrite (Docker's config.json):
/// replaces it only if it still holds `expected` (`None`: does not exist). Right before the
/// swap the file is compared; then, where the platform can (Linux `renameat2(RENAME_EXCHANGE)`,
/// macOS `RENAME_SWAP`), the new file and the old one trade places atomically and the old one
/// is compared again, so a save that lands in between is handed back, never silently dropped.
/// Elsewhere (Windows, file systems without the exchange) that last instant stays unguarded.
pub fn replace_if_unchanged(
    path: &Path,
    contents: &[u8],
    expected: Option<&[u8]>,
) -> Result<Replace> {
    replace_guarded(path, contents, expected, || {
        #[cfg(test)]
        if let Some(other_program) = BEFORE_SWAP.with(|hook| hook.borrow_mut().take()) {
            other_program();
        }
    })
}

#[cfg(test)]
thread_local! {
    /// Runs once, on this thread, between the next guarded write's check and its swap.
    pub(crate) static BEFORE_SWAP: std::cell::RefCell<Option<Box<dyn FnOnce()>>> =
        std::cell::RefCell::new(None);
}

/// [`replace_if_unchanged`] with a hook between the check and the swap, where tests play the
/// other program.
fn replace_guarded(
    path: &Path,
    contents: &[u8],
    expected: Option<&[u8]>,
    between_check_and_swap: impl FnOnce(),
) -> Result<Replace> {
    let target = resolve_symlinks(path)?;
    let (dir, tmp) = stage(&target, contents)?;
    let now = read_if_exists(&target)?;
    if now.as_deref() != expected {
        return Ok(Replace::Changed(now));
    }
    between_check_and_swap();
    // From here on the temporary path is only a name: dropping it removes whatever it names
    // (after an exchange, the old file).
    let tmp = tmp.into_temp_path();
    let outcome = swap_in(&tmp, &target, expected)?;
    sync_dir(&dir);
    Ok(outcome)
}

/// Writes `contents` to a temporary file next to `target`, synced, with the mode and owner of
/// the file it will replace.
fn stage(target: &Path, contents: &[u8]) -> Result<(PathBuf, tempfile::NamedTempFile)> {
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    create_private_dir(&dir)?;
    let existing = fs::metadata(target).ok();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(
            ".{}.",
            target.file_name().unwrap_or_default().to_string_lossy()
        ))
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(|e| Error::io("create a temporary file in", &dir, &e))?;
    tmp.write_all(contents)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| Error::io("write", tmp.path(), &e))?;
    if let Some(meta) = &existing {
        copy_mode_and_owner(tmp.as_file(), meta)
            .map_err(|e| Error::io("set permissions on", tmp.path(), &e))?;
    }
    Ok((dir, tmp))
}

fn read_if_exists(path: &Path) -> Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("read", path, &e)),
    }
}

/// Puts `tmp` in `target`'s place, handing back what it displaced if that was not `expected`.
#[cfg(any(target_os = "linux", target_os = "macos"))]
fn swap_in(tmp: &Path, target: &Path, expected: Option<&[u8]>) -> Result<Replace> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    use rustix::io::Errno;
    let flags = match expected {
        Some(_) => RenameFlags::EXCHANGE,
        None => RenameFlags::NOREPLACE,
    };
    match renameat_with(CWD, tmp, CWD, target, flags) {
        Ok(()) => match expected {
            None => Ok(Replace::Done),
            Some(expected) => {
                let old = fs::read(tmp).map_err(|e| Error::io("read", tmp, &e))?;
                if old == expected {
                    Ok(Replace::Done)
                } else {
                    Ok(Replace::Displaced(old))
                }
            }
        },
        // Deleted (exchange) or created (no-replace) by someone else in between.
        Err(Errno::NOENT) if expected.is_some() => Ok(Replace::Changed(None)),
        Err(Errno::EXIST) if expected.is_none() => Ok(Replace::Changed(read_if_exists(target)?)),
        // The file system cannot exchange: a plain rename, as Docker does.
        Err(e) if [Errno::INVAL, Errno::NOSYS, Errno::NOTSUP, Errno::OPNOTSUPP].contains(&e) => {
            fs::rename(tmp, target).map_err(|e| Error::io("replace", target, &e))?;
            Ok(Replace::Done)
        }
        Err(e) => Err(Error::io("replace", target, &std::io::Error::from(e))),
    }
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
fn swap_in(tmp: &Path, target: &Path, _expected: Option<&[u8]>) -> Result<Replace> {
    fs::rename(tmp, target).map_err(|e| Error::io("replace", target, &e))?;
    Ok(Replace::Done)
}

/// Creates a folder (and parents) readable by the user only, if it does not exist.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| Error::io("create the folder", dir, &e))
}

/// Makes one of ACR Tray's own folders private: creates it (and missing parents) 0700, or
/// takes group and other permissions off an existing one. Returns whether it had to tighten
/// (the caller says so in the log, once). Only for folders that are ACR Tray's alone
/// (settings, state, logs), never one other programs share such as `~/.docker`.
pub fn ensure_private_dir(dir: &Path) -> Result<bool> {
    create_private_dir(dir)?;
    tighten(dir).map_err(|e| Error::io("set permissions on", dir, &e))
}

/// Opens (creating if needed) a file for reading and writing (or appending), readable by the
/// user only: a new file is created 0600 whatever the umask, and an existing one that others
/// could read is tightened to 0600. Never truncates. Returns the file and whether it had to
/// tighten (the caller says so in the log, once).
pub fn open_private(path: &Path, append: bool) -> Result<(fs::File, bool)> {
    let mut options = fs::OpenOptions::new();
    options.create(true).read(true);
    if append {
        options.append(true);
    } else {
        options.write(true).truncate(false);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options
        .open(path)
        .map_err(|e| Error::io("open", path, &e))?;
    let tightened = tighten_file(&file).map_err(|e| Error::io("set permissions on", path, &e))?;
    Ok((file, tightened))
}

/// An exclusive advisory lock on a private file that names its holder; released (and the
/// name cleared) when dropped, and by the OS when the holder exits, even if it crashed.
#[derive(Debug)]
pub struct HeldLock {
    file: fs::File,
}

/// Takes the lock on `path` (a file made with [`open_private`]), trying again with growing
/// pauses until `wait` has passed: no lock is ever waited for without bound. Then writes
/// `process <pid> (<program>) since <time>` into the file so whoever waits can say who holds
/// it. `Ok(Err(holder))` when another process still holds it after `wait`: the holder's words,
/// or a note that it is not known (a process taking it that moment, or a program that does not
/// say, such as another user's).
pub fn lock_file(
    path: &Path,
    program: &str,
    wait: std::time::Duration,
) -> Result<std::result::Result<HeldLock, String>> {
    use std::io::{Read, Seek, SeekFrom};
    use std::time::{Duration, Instant};
    let (mut file, tightened) = open_private(path, false)?;
    if tightened {
        tracing::warn!(file = %path.display(), "other users could read this file; it is now private (0600)");
    }
    let deadline = Instant::now().checked_add(wait);
    let mut pause = Duration::from_millis(10);
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(fs::TryLockError::WouldBlock) => {
                let left = deadline.and_then(|d| d.checked_duration_since(Instant::now()));
                match left {
                    Some(left) if !left.is_zero() => {
                        std::thread::sleep(pause.min(left));
                        pause = pause.saturating_mul(2).min(Duration::from_millis(500));
                    }
                    _ => {
                        // The holder's own words: one line of them, bounded, printable only
                        // (anyone who could write the file chose them).
                        let mut raw = Vec::new();
                        let _ = (&mut file).take(200).read_to_end(&mut raw);
                        let holder: String = String::from_utf8_lossy(&raw)
                            .lines()
                            .next()
                            .unwrap_or_default()
                            .chars()
                            .filter(|c| !c.is_control())
                            .collect();
                        let holder = holder.trim();
                        return Ok(Err(if holder.is_empty() {
                            "a process that does not say which (one starting that moment, or another user's)".to_owned()
                        } else {
                            holder.to_owned()
                        }));
                    }
                }
            }
            Err(fs::TryLockError::Error(e)) => return Err(Error::io("lock", path, &e)),
        }
    }
    let who = format!(
        "process {} ({program}) since {}",
        std::process::id(),
        chrono::Local::now().format("%Y-%m-%d %H:%M:%S")
    );
    file.set_len(0)
        .and_then(|()| file.seek(SeekFrom::Start(0)))
        .and_then(|_| file.write_all(who.as_bytes()))
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::io("write", path, &e))?;
    Ok(Ok(HeldLock { file }))
}

impl Drop for HeldLock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

/// Takes group and other permissions off a file (through its symlinks): 0600 for a file
/// (0700 for a folder). Returns whether they were there (a missing file has none). A no-op
/// off Unix, where files in the user's profile are private by default.
pub fn make_private(path: &Path) -> Result<bool> {
    let target = resolve_symlinks(path)?;
    match tighten(&target) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        done => done.map_err(|e| Error::io("set permissions on", &target, &e)),
    }
}

#[cfg(unix)]
fn tighten(path: &Path) -> std::io::Result<bool> {
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(path)?.permissions().mode();
    if mode & 0o077 == 0 {
        return Ok(false);
    }
    fs::set_permissions(path, fs::Permissions::from_mode(mode & 0o700))?;
    Ok(true)
}

#[cfg(not(unix))]
fn tighten(_path: &Path) -> std::io::Result<bool> {
    Ok(false)
}

#[cfg(unix)]
fn tighten_file(file: &fs::File) -> std::io::Result<bool> {
    use std::os::unix::fs::PermissionsExt;
    let mode = file.metadata()?.permissions().mode();
    if mode & 0o077 == 0 {
        return Ok(false);
    }
    file.set_permissions(fs::Permissions::from_mode(mode & 0o700))?;
    Ok(true)
}

#[cfg(not(unix))]
fn tighten_file(_file: &fs::File) -> std::io::Result<bool> {
    Ok(false)
}

#[cfg(unix)]
fn copy_mode_and_owner(file: &fs::File, meta: &fs::Metadata) -> std::io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    file.set_permissions(meta.permissions())?;
    let mine = file.metadata()?;
    if (mine.uid(), mine.gid()) != (meta.uid(), meta.gid()) {
        // Only root can give a file away; everyone else keeps their own ownership, as Docker does.
        if let Err(e) = std::os::unix::fs::fchown(file, Some(meta.uid()), Some(meta.gid())) {
            tracing::debug!(error = %e, "could not keep the file's owner");
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn copy_mode_and_owner(file: &fs::File, meta: &fs::Metadata) -> std::io::Result<()> {
    file.set_permissions(meta.permissions())
}

fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = fs::File::open(dir) {
        // Makes the rename durable; failing here loses nothing already written.
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Refuses a file other users can read (it holds a secret).
#[cfg(unix)]
pub(crate) fn check_private(
    path: &Path,
    meta: &std::fs::Metadata,
) -> std::result::Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(format!(
            "{} can be read by other users (mode {mode:o}); a secret file must be mode 600",
            path.display()
        ));
    }
    Ok(())
}

/// Refuses a file other users can read (it holds a secret).
#[cfg(not(unix))]
pub(crate) fn check_private(
    _path: &Path,
    _meta: &std::fs::Metadata,
) -> std::result::Result<(), String> {
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn new_files_are_private_and_existing_modes_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("sub/config.json");
        atomic_write(&p, b"one").expect("write");
        assert_eq!(fs::read(&p).expect("read"), b"one");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| fs::metadata(p).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode(&p), 0o600);
            assert_eq!(mode(p.parent().expect("parent")), 0o700);
            fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).expect("chmod");
            atomic_write(&p, b"two").expect("write");
            assert_eq!(mode(&p), 0o644);
        }
        let leftovers: Vec<_> = fs::read_dir(p.parent().expect("parent"))
            .expect("ls")
            .collect();
        assert_eq!(leftovers.len(), 1, "no temp files left behind");
    }

    /// The names in `dir`, sorted (also for the tests of other modules that write files).
    pub(crate) fn files_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .expect("ls")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_changed_file_is_left_alone_and_handed_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("config.json");
        fs::write(&p, b"theirs").expect("write");
        let got = replace_if_unchanged(&p, b"ours", Some(b"before")).expect("write");
        assert_eq!(got, Replace::Changed(Some(b"theirs".to_vec())));
        assert_eq!(fs::read(&p).expect("read"), b"theirs");
        let got = replace_if_unchanged(&p, b"ours", None).expect("write");
        assert_eq!(got, Replace::Changed(Some(b"theirs".to_vec())));
        fs::remove_file(&p).expect("rm");
        let got = replace_if_unchanged(&p, b"ours", Some(b"theirs")).expect("write");
        assert_eq!(got, Replace::Changed(None));
        assert!(!p.exists());
        assert!(files_in(dir.path()).is_empty(), "no temp files left behind");
        let got = replace_if_unchanged(&p, b"ours", None).expect("write");
        assert_eq!(got, Replace::Done);
        assert_eq!(fs::read(&p).expect("read"), b"ours");
    }

    /// Another program's save landing between the check and the swap is handed back (where the
    /// platform exchanges), never silently replaced.
    #[cfg(any(target_os = "linux", target_os = "macos"))]
    #[test]
    fn a_save_between_check_and_swap_is_handed_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("config.json");
        fs::write(&p, b"before").expect("write");
        let other = p.clone();
        let got = replace_guarded(&p, b"ours", Some(b"before"), move || {
            // Docker saves the way we do: a temp file renamed over the target.
            let tmp = other.with_file_name("config.json12345");
            fs::write(&tmp, b"theirs").expect("write");
            fs::rename(&tmp, &other).expect("rename");
        })
        .expect("write");
        assert_eq!(got, Replace::Displaced(b"theirs".to_vec()));
        assert_eq!(fs::read(&p).expect("read"), b"ours");
        assert_eq!(
            files_in(dir.path()),
            ["config.json"],
            "no temp files left behind"
        );

        // A file created in the window by someone else is not overwritten.
        fs::remove_file(&p).expect("rm");
        let other = p.clone();
        let got = replace_guarded(&p, b"ours", None, move || {
            fs::write(&other, b"theirs").expect("write");
        })
        .expect("write");
        assert_eq!(got, Replace::Changed(Some(b"theirs".to_vec())));
        assert_eq!(fs::read(&p).expect("read"), b"theirs");
        assert_eq!(
            files_in(dir.path()),
            ["config.json"],
            "no temp files left behind"
        );
    }

    /// Whoever holds a lock, what its file says is shown as one bounded, printable line; a
    /// lock nobody holds is taken at once, and says who took it. (Unix: Windows' locks also
    /// keep others from reading the file, and the holder is then "not known".)
    #[cfg(unix)]
    #[test]
    fn a_held_lock_names_its_holder_in_one_bounded_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("x.lock");
        let mut other = fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .read(true)
            .open(&p)
            .expect("open");
        other.try_lock().expect("lock");
        let mut words = b"process 1 (\x1b[31mevil)\r\nsecond line".to_vec();
        words.extend(std::iter::repeat_n(b'x', 1 << 20));
        other.write_all(&words).expect("write");
        let holder = lock_file(&p, "test", std::time::Duration::ZERO)
            .expect("lock_file")
            .expect_err("held");
        assert_eq!(holder, "process 1 ([31mevil)");
        other.unlock().expect("unlock");
        let held = lock_file(&p, "test", std::time::Duration::ZERO)
            .expect("lock_file")
            .expect("free");
        let says = fs::read_to_string(&p).expect("read");
        assert!(
            says.starts_with(&format!("process {} (test) since ", std::process::id())),
            "{says}"
        );
        drop(held);
        assert_eq!(fs::read_to_string(&p).expect("read"), "", "cleared");
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_followed_and_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let real = dir.path().join("dotfiles/docker.json");
        fs::create_dir_all(real.parent().expect("parent")).expect("mkdir");
        fs::write(&real, b"old").expect("write");
        let link = dir.path().join("config.json");
        std::os::unix::fs::symlink("dotfiles/docker.json", &link).expect("symlink");
        atomic_write(&link, b"new").expect("write");
        assert!(
            fs::symlink_metadata(&link)
                .expect("meta")
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read(&real).expect("read"), b"new");
    }
}
