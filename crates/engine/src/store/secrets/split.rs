//! Secrets longer than a keyring entry can hold, kept as numbered parts plus a small header.
//!
//! The Windows Credential Manager refuses a secret over 2,560 bytes, and the `keyring` crate
//! stores passwords there as UTF-16: about 1,280 characters. ACR refresh tokens run to 2,400–3,200
//! characters and Entra refresh tokens can pass 1,280. [`SplitStore`] sits over any
//! [`SecretStore`] and knows nothing of key names:
//!
//! - A value that fits is one entry under its key, exactly as earlier versions wrote it (so
//!   their entries are read as they are).
//! - A longer value is written as parts `KEY#part-S-I` (S the slot, 0 or 1; I from 0), each
//!   within the limit, and then a header under `KEY` itself: `acr-tray-split/1 gen=G count=N
//!   len=L sha256=H` (the generation, the number of parts, the value's length in bytes and the
//!   SHA-256 of the value). The parts of generation G live in slot G mod 2, so a new value is
//!   written beside the old one and the header, written last, switches to it: a crash between
//!   part writes leaves the old header and the old parts, and the old value is still read. The
//!   old slot's parts are deleted after the switch.
//! - A read joins the header's parts and checks the length and the hash; a missing part or a
//!   mismatch (two processes writing at once, an entry deleted by hand) is read once more, in
//!   case a writer switched generations in between, and then reported as a damaged entry to be
//!   signed in again, never returned as a wrong secret.
//! - Deleting removes the header and every part of both slots.

use sha2::{Digest, Sha256};

use super::SecretStore;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// The Windows Credential Manager's limit on a secret, in bytes (`CRED_MAX_CREDENTIAL_BLOB_SIZE`).
pub const WINDOWS_BLOB_BYTES: usize = 2560;

/// What one Credential Manager entry holds of a password stored as UTF-16: 1,280 code units.
pub const WINDOWS_UNITS: usize = WINDOWS_BLOB_BYTES / 2;

/// The most parts a value is split into (with Windows' limit, some 160,000 characters).
pub const MAX_PARTS: usize = 128;

/// How every header starts; a value starting so is always written split, so that reading one
/// is never ambiguous.
const MAGIC: &str = "acr-tray-split/";
/// The header's format.
const VERSION: &str = "acr-tray-split/1";
/// The longest header a reader accepts (a real one is about 130 characters).
const MAX_HEADER: usize = 256;

/// A [`SecretStore`] that splits values longer than `max_units` UTF-16 code units per entry.
pub struct SplitStore<S> {
    inner: S,
    max_units: Option<usize>,
}

impl<S: SecretStore> SplitStore<S> {
    /// Splits values over `max_units` UTF-16 code units (`None`: only values that look like a
    /// header are written split).
    pub fn new(inner: S, max_units: Option<usize>) -> Self {
        // A part of at least one character (two code units) is always possible.
        Self {
            inner,
            max_units: max_units.map(|m| m.max(2)),
        }
    }

    /// The store underneath.
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

/// A header, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Header {
    generation: u64,
    count: usize,
    len: usize,
    sha256: [u8; 32],
}

impl Header {
    fn for_value(generation: u64, count: usize, value: &str) -> Self {
        Self {
            generation,
            count,
            len: value.len(),
            sha256: Sha256::digest(value.as_bytes()).into(),
        }
    }

    fn slot(&self) -> u8 {
        slot_of(self.generation)
    }

    fn render(&self) -> String {
        format!(
            "{VERSION} gen={} count={} len={} sha256={}",
            self.generation,
            self.count,
            self.len,
            hex::encode(self.sha256)
        )
    }

    /// Parses a header; `None` for anything that is not one this version wrote.
    fn parse(text: &str) -> Option<Self> {
        if text.len() > MAX_HEADER {
            return None;
        }
        let mut words = text.split(' ');
        if words.next()? != VERSION {
            return None;
        }
        let mut field = |name: &str| {
            words
                .next()
                .and_then(|w| w.strip_prefix(name))
                .and_then(|w| w.strip_prefix('='))
        };
        let generation = field("gen")?.parse().ok()?;
        let count: usize = field("count")?.parse().ok()?;
        let len: usize = field("len")?.parse().ok()?;
        let mut sha256 = [0u8; 32];
        hex::decode_to_slice(field("sha256")?, &mut sha256).ok()?;
        if words.next().is_some() || count == 0 || count > MAX_PARTS {
            return None;
        }
        Some(Self {
            generation,
            count,
            len,
            sha256,
        })
    }
}

fn slot_of(generation: u64) -> u8 {
    u8::from(generation % 2 == 1)
}

/// The key of part `index` in `slot`.
fn part_key(key: &str, slot: u8, index: usize) -> String {
    format!("{key}#part-{slot}-{index}")
}

/// Splits `value` into pieces of at most `max_units` UTF-16 code units, never inside a
/// character.
fn split(value: &str, max_units: usize) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut units = 0usize;
    for (at, c) in value.char_indices() {
        let n = c.len_utf16();
        if units.saturating_add(n) > max_units {
            parts.push(&value[start..at]);
            start = at;
            units = 0;
        }
        units = units.saturating_add(n);
    }
    if start < value.len() || parts.is_empty() {
        parts.push(&value[start..]);
    }
    parts
}

/// The error for a split entry that cannot be put back together.
fn damaged(key: &str, detail: &str) -> Error {
    Error::SecretUnavailable {
        identity: format!("keyring entry {key}"),
        detail: format!("its parts in the OS keyring do not fit together ({detail})"),
        hint: "sign in again (or add the registry again) so a new one is stored; removing the \
               entry first is not needed"
            .into(),
    }
}

/// Whether a stored value is a header (or claims to be one).
fn is_header(value: &str) -> bool {
    value.starts_with(MAGIC)
}

impl<S: SecretStore> SplitStore<S> {
    /// Deletes the parts of `slot` from `from` on, up to the first one missing (parts are
    /// written in order, so none lie beyond).
    fn sweep(&self, key: &str, slot: u8, from: usize) -> Result<()> {
        for index in from..MAX_PARTS {
            let part = part_key(key, slot, index);
            if self.inner.get(&part)?.is_none() {
                break;
            }
            self.inner.delete(&part)?;
        }
        Ok(())
    }

    /// The value a header describes, or why it cannot be put together.
    fn join(&self, key: &str, header: &Header) -> Result<std::result::Result<Secret, String>> {
        let mut value = String::with_capacity(header.len.min(MAX_PARTS * 4 * WINDOWS_UNITS));
        for index in 0..header.count {
            match self.inner.get(&part_key(key, header.slot(), index))? {
                Some(part) => {
                    if value.len().saturating_add(part.expose().len()) > header.len {
                        return Ok(Err("the parts are longer than the header says".to_owned()));
                    }
                    value.push_str(part.expose());
                }
                None => return Ok(Err(format!("part {index} is missing"))),
            }
        }
        if value.len() != header.len {
            return Ok(Err("the parts are shorter than the header says".to_owned()));
        }
        let digest: [u8; 32] = Sha256::digest(value.as_bytes()).into();
        if digest != header.sha256 {
            return Ok(Err("the parts' checksum does not match".to_owned()));
        }
        Ok(Ok(Secret::new(value)))
    }
}

impl<S: SecretStore> SecretStore for SplitStore<S> {
    fn get(&self, key: &str) -> Result<Option<Secret>> {
        let Some(first) = self.inner.get(key)? else {
            return Ok(None);
        };
        if !is_header(first.expose()) {
            // One entry: a short value, or one written by an earlier version.
            return Ok(Some(first));
        }
        let mut text = first;
        // Twice at most: a writer may have switched generations between the header and the
        // parts; a second failure is damage.
        for attempt in 0..2 {
            let header = Header::parse(text.expose())
                .ok_or_else(|| damaged(key, "its header is not readable"))?;
            let problem = match self.join(key, &header)? {
                Ok(value) => return Ok(Some(value)),
                Err(problem) => problem,
            };
            let again = self.inner.get(key)?;
            match again {
                None => return Ok(None),
                Some(v) if !is_header(v.expose()) => return Ok(Some(v)),
                Some(v) if attempt == 0 && v != text => text = v,
                Some(_) => return Err(damaged(key, &problem)),
            }
        }
        Err(damaged(key, "it changed while being read"))
    }

    fn set(&self, key: &str, secret: &Secret) -> Result<()> {
        let value = secret.expose();
        let units: usize = value.chars().map(char::len_utf16).sum();
        let fits = self.max_units.is_none_or(|max| units <= max);
        // What was there: a single entry, or a header (a damaged one counts as generation 0).
        let previous = match self.inner.get(key)? {
            Some(v) if is_header(v.expose()) => {
                Some(Header::parse(v.expose()).map_or(0, |h| h.generation))
            }
            _ => None,
        };
        if fits && !is_header(value) {
            self.inner.set(key, secret)?;
            if previous.is_some() {
                self.sweep(key, 0, 0)?;
                self.sweep(key, 1, 0)?;
            }
            return Ok(());
        }
        let parts = split(value, self.max_units.unwrap_or(usize::MAX));
        if parts.len() > MAX_PARTS {
            return Err(Error::invalid_input(
                format!(
                    "a secret of {units} characters is too long for the OS keyring (at most {} here)",
                    MAX_PARTS.saturating_mul(self.max_units.unwrap_or(usize::MAX))
                ),
                "this is not a token or secret Azure issues; check what was given",
            ));
        }
        // The next generation goes into the other slot; wrapping keeps the slots alternating.
        let generation = previous.map_or(1, |g| g.wrapping_add(1));
        let header = Header::for_value(generation, parts.len(), value);
        for (index, part) in parts.iter().enumerate() {
            self.inner
                .set(&part_key(key, header.slot(), index), &Secret::new(*part))?;
        }
        // Leftovers of an earlier write into this slot that did not finish.
        self.sweep(key, header.slot(), parts.len())?;
        self.inner.set(key, &Secret::new(header.render()))?;
        // The previous generation's parts (none after a single entry).
        if previous.is_some() {
            self.sweep(key, slot_of(generation.wrapping_add(1)), 0)?;
        }
        Ok(())
    }

    fn delete(&self, key: &str) -> Result<()> {
        self.inner.delete(key)?;
        self.sweep(key, 0, 0)?;
        self.sweep(key, 1, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::secrets::MemoryStore;

    /// The Credential Manager's limits, on every platform.
    fn windows() -> SplitStore<MemoryStore> {
        SplitStore::new(MemoryStore::with_windows_limits(), Some(WINDOWS_UNITS))
    }

    fn ascii(n: usize) -> String {
        (0..n)
            .map(|i| char::from(b'a' + u8::try_from(i % 26).unwrap_or(0)))
            .collect()
    }

    /// `n` characters mixing one-, two- and three-byte characters and surrogate pairs.
    fn non_ascii(n: usize) -> String {
        ['é', '€', '😀', 'x', '中', '\u{10FFFF}']
            .iter()
            .cycle()
            .take(n)
            .collect()
    }

    #[test]
    fn the_double_refuses_what_windows_refuses() {
        let store = MemoryStore::with_windows_limits();
        store.set("k", &Secret::new(ascii(1280))).expect("fits");
        let err = store
            .set("k", &Secret::new(ascii(1281)))
            .expect_err("2,562 bytes");
        assert!(err.to_string().contains("2560"), "{err}");
        assert!(!matches!(err, Error::KeyringUnavailable { .. }));
        // 640 surrogate pairs are 2,560 bytes; one more character is too many.
        store
            .set("k", &Secret::new("😀".repeat(640)))
            .expect("fits");
        store
            .set("k", &Secret::new(format!("{}x", "😀".repeat(640))))
            .expect_err("2,562 bytes");
    }

    #[test]
    fn long_secrets_round_trip_under_windows_limits() {
        for n in [0, 1, 1000, 1279, 1280, 1281, 2560, 3200, 10_000] {
            for value in [ascii(n), non_ascii(n)] {
                let store = windows();
                store
                    .set("acr-token/r", &Secret::new(value.clone()))
                    .expect("set");
                let back = store.get("acr-token/r").expect("get").expect("some");
                assert!(back.expose() == value, "{n} characters changed");
                // Every entry within the limit.
                for key in store.inner().keys() {
                    let entry = store.inner().get(&key).expect("get").expect("some");
                    assert!(
                        entry.expose().encode_utf16().count() <= WINDOWS_UNITS,
                        "{key}"
                    );
                }
                let units = value.encode_utf16().count();
                let entries = store.inner().keys().len();
                if units <= WINDOWS_UNITS {
                    assert_eq!(entries, 1, "{n}: one plain entry");
                } else {
                    assert!(entries > 2, "{n}: header and parts");
                }
            }
        }
    }

    #[test]
    fn rewriting_longer_shorter_and_plain_leaves_no_stale_part() {
        let store = windows();
        let sizes = [10_000, 3200, 1281, 20, 5000, 9000, 1280, 4000];
        for n in sizes {
            let value = non_ascii(n);
            store.set("k", &Secret::new(value.clone())).expect("set");
            assert!(store.get("k").expect("get").expect("some").expose() == value);
            let expected = match split(&value, WINDOWS_UNITS).len() {
                1 => 1,
                parts => parts + 1,
            };
            assert_eq!(
                store.inner().keys().len(),
                expected,
                "{n}: {:?}",
                store.inner().keys()
            );
        }
    }

    #[test]
    fn delete_removes_every_part() {
        let store = windows();
        store.set("k", &Secret::new(ascii(10_000))).expect("set");
        store.set("other", &Secret::new(ascii(3000))).expect("set");
        let others: Vec<String> = store
            .inner()
            .keys()
            .into_iter()
            .filter(|k| k.starts_with("other"))
            .collect();
        store.delete("k").expect("delete");
        assert_eq!(store.inner().keys(), others);
        assert!(store.get("k").expect("get").is_none());
        store.delete("k").expect("deleting nothing");
        assert_eq!(
            store.get("other").expect("get").expect("some").expose(),
            ascii(3000)
        );
    }

    #[test]
    fn an_entry_of_an_earlier_version_is_read_as_it_is() {
        // Earlier versions wrote one entry, whatever its length (Linux and macOS took it).
        let store = SplitStore::new(MemoryStore::new(), Some(WINDOWS_UNITS));
        let legacy = ascii(3000);
        store
            .inner()
            .set("refresh-token/dev", &Secret::new(legacy.clone()))
            .expect("legacy");
        assert_eq!(
            store
                .get("refresh-token/dev")
                .expect("get")
                .expect("some")
                .expose(),
            legacy
        );
        // Rewritten, it is split; read back the same.
        store
            .set("refresh-token/dev", &Secret::new(legacy.clone()))
            .expect("set");
        assert!(store.inner().keys().len() > 2);
        assert_eq!(
            store
                .get("refresh-token/dev")
                .expect("get")
                .expect("some")
                .expose(),
            legacy
        );
    }

    /// A store whose writes fail from the `n`th on (a crash, as far as the entries go).
    struct CrashAfter {
        inner: MemoryStore,
        writes_left: std::sync::Mutex<usize>,
    }

    impl SecretStore for CrashAfter {
        fn get(&self, key: &str) -> Result<Option<Secret>> {
            self.inner.get(key)
        }
        fn set(&self, key: &str, secret: &Secret) -> Result<()> {
            let mut left = self.writes_left.lock().unwrap_or_else(|e| e.into_inner());
            if *left == 0 {
                return Err(Error::KeyringUnavailable {
                    detail: "crashed".to_owned(),
                });
            }
            *left -= 1;
            self.inner.set(key, secret)
        }
        fn delete(&self, key: &str) -> Result<()> {
            self.inner.delete(key)
        }
    }

    #[test]
    fn a_torn_write_leaves_the_previous_value_readable() {
        let old = non_ascii(3000);
        let new = ascii(6000);
        // Every point the new value's writes can stop at: after 0, 1, ... parts, before the
        // header.
        for writes in 0..5 {
            let store = SplitStore::new(
                CrashAfter {
                    inner: MemoryStore::with_windows_limits(),
                    writes_left: std::sync::Mutex::new(usize::MAX),
                },
                Some(WINDOWS_UNITS),
            );
            store.set("k", &Secret::new(old.clone())).expect("old");
            *store
                .inner()
                .writes_left
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = writes;
            store.set("k", &Secret::new(new.clone())).expect_err("torn");
            assert!(
                store
                    .get("k")
                    .expect("old still there")
                    .expect("some")
                    .expose()
                    == old,
                "torn after {writes} writes"
            );
            // The next write succeeds and leaves only its own entries.
            *store
                .inner()
                .writes_left
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = usize::MAX;
            store.set("k", &Secret::new(new.clone())).expect("new");
            assert!(store.get("k").expect("get").expect("some").expose() == new);
            assert_eq!(
                store.inner().inner.keys().len(),
                1 + split(&new, WINDOWS_UNITS).len()
            );
        }
    }

    #[test]
    fn mixed_parts_are_reported_never_returned() {
        let store = windows();
        store.set("k", &Secret::new(ascii(3000))).expect("set");
        let header = store.inner().get("k").expect("get").expect("header");
        let slot = Header::parse(header.expose()).expect("header").slot();
        // Another writer's part in place of ours (same length, other content).
        let part = part_key("k", slot, 1);
        let theirs: String = store
            .inner()
            .get(&part)
            .expect("get")
            .expect("part")
            .expose()
            .chars()
            .rev()
            .collect();
        store.inner().set(&part, &Secret::new(theirs)).expect("set");
        let err = store.get("k").expect_err("damaged");
        assert!(matches!(err, Error::SecretUnavailable { .. }), "{err:?}");
        assert!(err.to_string().contains("checksum"), "{err}");
        assert!(err.hint().expect("hint").plain().contains("sign in again"));

        // A part deleted by hand.
        store.inner().delete(&part).expect("delete");
        let err = store.get("k").expect_err("damaged");
        assert!(err.to_string().contains("part 1 is missing"), "{err}");

        // A hand-edited header.
        store
            .inner()
            .set("k", &Secret::new("acr-tray-split/1 gen=x"))
            .expect("set");
        assert!(store.get("k").is_err());
        // Writing again repairs it.
        store.set("k", &Secret::new(ascii(2000))).expect("set");
        assert_eq!(
            store.get("k").expect("get").expect("some").expose(),
            ascii(2000)
        );
    }

    #[test]
    fn a_value_that_looks_like_a_header_is_kept_unambiguously() {
        for store in [windows(), SplitStore::new(MemoryStore::new(), None)] {
            let tricky = "acr-tray-split/1 gen=1 count=1 len=3 sha256=00";
            store.set("k", &Secret::new(tricky)).expect("set");
            assert_eq!(store.get("k").expect("get").expect("some").expose(), tricky);
        }
    }

    #[test]
    fn without_a_limit_values_stay_whole() {
        let store = SplitStore::new(MemoryStore::new(), None);
        store.set("k", &Secret::new(ascii(100_000))).expect("set");
        assert_eq!(store.inner().keys(), vec!["k"]);
    }

    #[test]
    fn headers_round_trip_and_hostile_ones_are_refused() {
        let h = Header::for_value(u64::MAX, MAX_PARTS, "value");
        assert_eq!(Header::parse(&h.render()), Some(h.clone()));
        assert_ne!(slot_of(h.generation), slot_of(h.generation.wrapping_add(1)));
        for bad in [
            "acr-tray-split/1",
            "acr-tray-split/1 gen=1 count=0 len=1 sha256=00",
            "acr-tray-split/1 gen=1 count=99999999999999999999 len=1 sha256=00",
            "acr-tray-split/1 gen=-1 count=1 len=1 sha256=00",
            "acr-tray-split/2 gen=1 count=1 len=1 sha256=00",
            &format!("{} extra", h.render()),
            &format!(
                "acr-tray-split/1 gen=1 count={} len=1 sha256={}",
                MAX_PARTS + 1,
                "0".repeat(64)
            ),
        ] {
            assert_eq!(Header::parse(bad), None, "{bad}");
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(crate::proptest_config(64))]

            /// Any sequence of values (any characters, any length) written under Windows'
            /// limits reads back as the last one written, leaving only its own entries.
            #[test]
            fn any_values_round_trip(values in proptest::collection::vec(
                prop_oneof![".{0,1500}", "[a-zA-Z0-9._-]{1200,4000}", any::<String>()], 1..4)
            ) {
                let store = windows();
                for value in &values {
                    store.set("k", &Secret::new(value.clone())).expect("set");
                    let back = store.get("k").expect("get").expect("some");
                    prop_assert!(back.expose() == value.as_str());
                    let parts = split(value, WINDOWS_UNITS).len();
                    let plain = parts == 1 && !is_header(value);
                    prop_assert_eq!(store.inner().keys().len(), if plain { 1 } else { parts + 1 });
                }
                store.delete("k").expect("delete");
                prop_assert!(store.inner().keys().is_empty());
            }

            #[test]
            fn any_header_text_is_read_or_refused(text in any::<String>(), tail in ".{0,80}") {
                let _ = Header::parse(&text);
                let _ = Header::parse(&format!("{VERSION} {tail}"));
                // As an entry: read as a plain value, or refused as damage; never a panic.
                let store = windows();
                store.inner().set("k", &Secret::new(format!("{MAGIC}{tail}"))).expect("set");
                let _ = store.get("k");
                store.set("k", &Secret::new("new")).expect("a write repairs it");
                prop_assert_eq!(store.get("k").expect("get").map(|s| s.expose().to_owned()), Some("new".to_owned()));
            }
        }
    }
}
