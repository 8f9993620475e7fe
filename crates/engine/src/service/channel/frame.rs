//! Frames: one JSON value per line, bounded.

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::io::{AsyncBufRead, AsyncBufReadExt as _, AsyncWrite, AsyncWriteExt as _};

/// The largest frame either end accepts, in bytes (an overview of the most registries the
/// settings allow is far smaller).
pub const MAX_FRAME: usize = 4 * 1024 * 1024;

/// Why the channel cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// Reading or writing failed.
    #[error("the window channel failed: {0}")]
    Io(#[from] std::io::Error),
    /// A frame was longer than [`MAX_FRAME`].
    #[error("the window channel sent a frame over {MAX_FRAME} bytes")]
    TooLong,
    /// A frame was not the JSON expected.
    #[error("the window channel sent a frame that is not understood: {0}")]
    Malformed(String),
}

/// Reads frames. Cancel-safe: a frame read in part is kept until the rest comes, so `next`
/// can be one branch of a `select!`.
pub(super) struct Reader<R> {
    inner: R,
    line: Vec<u8>,
}

impl<R: AsyncBufRead + Unpin> Reader<R> {
    pub(super) fn new(inner: R) -> Self {
        Self {
            inner,
            line: Vec::new(),
        }
    }

    /// The next frame, or `None` at the end of the stream. Holds at most [`MAX_FRAME`] bytes
    /// of a frame before giving up on it.
    pub(super) async fn next<T: DeserializeOwned>(&mut self) -> Result<Option<T>, FrameError> {
        loop {
            // The one await: everything after it runs to the end of this turn of the loop.
            let buf = self.inner.fill_buf().await?;
            if buf.is_empty() {
                if self.line.is_empty() {
                    return Ok(None);
                }
                return Err(FrameError::Malformed(
                    "the stream ended inside a frame".to_owned(),
                ));
            }
            let (part, done) = match buf.iter().position(|b| *b == b'\n') {
                Some(at) => (&buf[..at], Some(at + 1)),
                None => (buf, None),
            };
            if self.line.len().saturating_add(part.len()) > MAX_FRAME {
                return Err(FrameError::TooLong);
            }
            self.line.extend_from_slice(part);
            let used = done.unwrap_or(part.len());
            self.inner.consume(used);
            if done.is_some() {
                let line = std::mem::take(&mut self.line);
                return serde_json::from_slice(&line)
                    .map(Some)
                    .map_err(not_understood);
            }
        }
    }
}

/// Why a frame was not understood: where and what kind of fault, never serde's own words,
/// which may quote the frame (a secret typed into the window, say) into a log.
fn not_understood(e: serde_json::Error) -> FrameError {
    FrameError::Malformed(format!(
        "{:?} fault at line {}, column {}",
        e.classify(),
        e.line(),
        e.column()
    ))
}

/// Writes one frame and flushes it.
pub(super) async fn write<T: Serialize, W: AsyncWrite + Unpin>(
    writer: &mut W,
    frame: &T,
) -> Result<(), FrameError> {
    let mut bytes = serde_json::to_vec(frame).map_err(|e| FrameError::Malformed(e.to_string()))?;
    if bytes.len() > MAX_FRAME {
        return Err(FrameError::TooLong);
    }
    bytes.push(b'\n');
    writer.write_all(&bytes).await?;
    writer.flush().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[tokio::test]
    async fn frames_round_trip_and_split_reads_are_joined() {
        let (a, b) = tokio::io::duplex(7);
        let writer = tokio::spawn(async move {
            let mut a = a;
            for n in 0..3 {
                write(&mut a, &json!({"n": n, "text": "x".repeat(20)}))
                    .await
                    .expect("write");
            }
        });
        let mut reader = Reader::new(tokio::io::BufReader::new(b));
        for n in 0..3 {
            let frame: Value = reader.next().await.expect("read").expect("a frame");
            assert_eq!(frame["n"], n);
        }
        writer.await.expect("writer");
        assert!(reader.next::<Value>().await.expect("end").is_none());
    }

    #[tokio::test]
    async fn a_frame_over_the_limit_is_refused_before_it_is_all_read() {
        let endless = tokio::io::repeat(b'a');
        let mut reader = Reader::new(tokio::io::BufReader::new(endless));
        assert!(matches!(
            reader.next::<Value>().await,
            Err(FrameError::TooLong)
        ));
    }

    #[tokio::test]
    async fn garbage_and_a_cut_frame_are_malformed() {
        let mut reader = Reader::new(&b"{not json}\n"[..]);
        assert!(matches!(
            reader.next::<Value>().await,
            Err(FrameError::Malformed(_))
        ));
        // A frame of the wrong shape is not quoted back (it may hold a typed secret).
        let mut reader = Reader::new(
            &b"{\"type\":\"call\",\"id\":\"S3CRET-typed\",\"command\":\"doctor\"}\n"[..],
        );
        match reader.next::<super::super::FromWindow>().await {
            Err(FrameError::Malformed(why)) => assert!(!why.contains("S3CRET"), "{why}"),
            other => panic!("{other:?}"),
        }
        let mut reader = Reader::new(&b"{\"a\":1"[..]);
        assert!(matches!(
            reader.next::<Value>().await,
            Err(FrameError::Malformed(_))
        ));
    }
}
