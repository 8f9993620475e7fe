//! The log files of the tray app and the CLI: one a day, `<prefix>.<YYYY-MM-DD>.log` (UTC
//! dates), in a folder only the user can open, each file created 0600 and the newest few kept.
//!
//! tracing-appender's rolling files are created with the process's umask (usually 0644) and it
//! has no setting for their mode, so the files are opened here, through
//! [`fsutil::open_private`], and handed to the logger as a plain writer.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crate::error::Result;
use crate::fsutil;

/// A daily log file, written by appending; usable wherever a [`Write`] is (tracing-appender's
/// non-blocking writer, a `Mutex` as a tracing-subscriber `MakeWriter`).
pub struct DailyLog {
    dir: PathBuf,
    prefix: String,
    keep: usize,
    today: Box<dyn Fn() -> NaiveDate + Send>,
    current: Option<(NaiveDate, File)>,
    tightened: Vec<PathBuf>,
}

impl DailyLog {
    /// Makes `dir` private (creating it 0700, or tightening it) and opens today's file.
    pub fn open(dir: &Path, prefix: &str, keep: usize) -> Result<Self> {
        Self::with_clock(dir, prefix, keep, || chrono::Utc::now().date_naive())
    }

    /// [`DailyLog::open`] with the date taken from `today` (tests move it on).
    pub fn with_clock(
        dir: &Path,
        prefix: &str,
        keep: usize,
        today: impl Fn() -> NaiveDate + Send + 'static,
    ) -> Result<Self> {
        let mut log = Self {
            dir: dir.to_path_buf(),
            prefix: prefix.to_owned(),
            keep: keep.max(1),
            today: Box::new(today),
            current: None,
            tightened: Vec::new(),
        };
        if fsutil::ensure_private_dir(dir)? {
            log.tightened.push(dir.to_path_buf());
        }
        log.file()?;
        Ok(log)
    }

    /// The folder and files other users could read until this log made them private (to be
    /// said once in the log, when the logger is installed: nothing is logged from inside the
    /// writer, which would write into itself).
    pub fn take_tightened(&mut self) -> Vec<PathBuf> {
        std::mem::take(&mut self.tightened)
    }

    /// The file for `day`.
    pub fn path_for(&self, day: NaiveDate) -> PathBuf {
        self.dir
            .join(format!("{}.{}.log", self.prefix, day.format("%Y-%m-%d")))
    }

    /// Today's file, opened (and older ones pruned) when the day changed.
    fn file(&mut self) -> Result<&mut File> {
        let day = (self.today)();
        if self.current.as_ref().is_none_or(|(d, _)| *d != day) {
            let path = self.path_for(day);
            // Older files can only have become too many when this one is new (this keeps the
            // credential helper, which logs through here, from listing the folder each run).
            let new = !path.exists();
            let (file, tightened) = fsutil::open_private(&path, true)?;
            if tightened {
                self.tightened.push(path);
            }
            self.current = Some((day, file));
            if new {
                self.prune();
            }
        }
        match &mut self.current {
            Some((_, file)) => Ok(file),
            None => unreachable!("opened above"),
        }
    }

    /// Deletes this log's files beyond the newest `keep` (by the date in their names).
    fn prune(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let mut days: Vec<NaiveDate> = entries
            .filter_map(|e| {
                let name = e.ok()?.file_name();
                let day = name
                    .to_str()?
                    .strip_prefix(&self.prefix)?
                    .strip_prefix('.')?
                    .strip_suffix(".log")?;
                NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()
            })
            .collect();
        days.sort_unstable_by(|a, b| b.cmp(a));
        for day in days.into_iter().skip(self.keep) {
            // Best effort, and silent: logging here would write into this very writer.
            let _ = std::fs::remove_file(self.path_for(day));
        }
    }
}

impl Write for DailyLog {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file()
            .map_err(|e| io::Error::other(e.to_string()))?
            .write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.current {
            Some((_, file)) => file.flush(),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicI64, Ordering};

    use crate::fsutil::tests::files_in as names;

    #[test]
    fn one_private_file_a_day_and_the_newest_kept() {
        let root = tempfile::tempdir().expect("tmp");
        let dir = root.path().join("state/logs");
        let day = Arc::new(AtomicI64::new(0));
        let start = NaiveDate::from_ymd_opt(2026, 3, 1).expect("date");
        let clock = {
            let day = day.clone();
            move || start + chrono::Days::new(day.load(Ordering::SeqCst).unsigned_abs())
        };
        let mut log = DailyLog::with_clock(&dir, "acr-tray", 3, clock).expect("open");
        assert!(
            log.take_tightened().is_empty(),
            "made private, not tightened"
        );
        // Another log in the same folder, and a file that only looks like ours.
        std::fs::write(dir.join("acr-tray-cli.2026-01-01.log"), "cli").expect("write");
        std::fs::write(dir.join("acr-tray.notes.log"), "mine").expect("write");
        for n in 0..5 {
            day.store(n, Ordering::SeqCst);
            writeln!(log, "day {n}").expect("write");
        }
        log.flush().expect("flush");
        assert_eq!(
            names(&dir),
            [
                "acr-tray-cli.2026-01-01.log",
                "acr-tray.2026-03-03.log",
                "acr-tray.2026-03-04.log",
                "acr-tray.2026-03-05.log",
                "acr-tray.notes.log",
            ]
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("acr-tray.2026-03-05.log")).expect("read"),
            "day 4\n"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode(&dir), 0o700);
            assert_eq!(mode(&root.path().join("state")), 0o700);
            for name in ["acr-tray.2026-03-03.log", "acr-tray.2026-03-05.log"] {
                assert_eq!(mode(&dir.join(name)), 0o600, "{name}");
            }
        }
    }

    /// A folder and a file left readable by an older version are tightened, and appended to.
    #[cfg(unix)]
    #[test]
    fn an_existing_open_folder_and_file_are_tightened() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().expect("tmp");
        let dir = root.path().join("logs");
        std::fs::create_dir(&dir).expect("mkdir");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let day = NaiveDate::from_ymd_opt(2026, 3, 1).expect("date");
        let file = dir.join("acr-tray.2026-03-01.log");
        std::fs::write(&file, "before\n").expect("write");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let mut log = DailyLog::with_clock(&dir, "acr-tray", 7, move || day).expect("open");
        assert_eq!(log.take_tightened(), [dir.clone(), file.clone()]);
        assert!(log.take_tightened().is_empty(), "said once");
        writeln!(log, "after").expect("write");
        let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&file), 0o600);
        assert_eq!(
            std::fs::read_to_string(&file).expect("read"),
            "before\nafter\n"
        );
    }
}
