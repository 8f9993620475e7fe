//! Atomic file replacement, the way Docker saves its config (protocol.md §6.3): a temp file in
//! the same folder, fsync, the old file's mode (and owner) copied, rename over the target, and
//! symlinks followed so the link itself survives.

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
    atomic_write_if(path, contents, || true).map(|_| ())
}

/// Like [`atomic_write`], but checks `still_current` right before the rename (after the new
/// contents are on disk) and leaves the file alone when it says no. Returns whether the file
/// was replaced.
pub fn atomic_write_if(
    path: &Path,
    contents: &[u8],
    still_current: impl FnOnce() -> bool,
) -> Result<bool> {
    let target = resolve_symlinks(path)?;
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    create_private_dir(&dir)?;
    let existing = fs::metadata(&target).ok();
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
    if !still_current() {
        return Ok(false);
    }
    tmp.persist(&target)
        .map_err(|e| Error::io("replace", &target, &e.error))?;
    sync_dir(&dir);
    Ok(true)
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

#[cfg(test)]
mod tests {
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
