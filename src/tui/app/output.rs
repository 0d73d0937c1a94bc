//! The output pane: the last lines a target started by pvtui printed, kept
//! in bounded memory however much it prints.
//!
//! A reader thread per stream ([`crate::tui::event::forward_output`]) reads
//! the pipe as bytes and splits lines: text that is not UTF-8 and control
//! characters are shown escaped, and reading goes on (a reader that stopped
//! would leave the target to die of SIGPIPE). A line longer than
//! [`MAX_LINE`] bytes keeps its start and counts the rest. Lines go to one
//! ring of at most [`MAX_LINES`] lines and [`MAX_BYTES`] bytes, the oldest
//! dropped first and counted. The UI is woken by at most one event at a
//! time, so however fast the target prints, the event channel never fills
//! with output and keys always get through.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::text::escape;

/// Lines kept.
pub const MAX_LINES: usize = 500;
/// Bytes kept over all the lines.
pub const MAX_BYTES: usize = 256 * 1024;
/// Bytes kept of one line; the rest are counted.
pub const MAX_LINE: usize = 4096;

/// The last lines, bounded in lines and bytes.
#[derive(Clone, Debug, Default)]
pub struct OutputRing {
    lines: VecDeque<String>,
    bytes: usize,
    /// Lines dropped to stay in bounds, oldest first.
    dropped: u64,
}

impl OutputRing {
    /// Appends a line already made printable.
    fn push_shown(&mut self, line: String) {
        self.bytes += line.len();
        self.lines.push_back(line);
        while self.lines.len() > MAX_LINES || self.bytes > MAX_BYTES {
            let Some(old) = self.lines.pop_front() else {
                break;
            };
            self.bytes -= old.len();
            self.dropped += 1;
        }
    }

    pub fn lines(&self) -> &VecDeque<String> {
        &self.lines
    }

    /// The bytes the kept lines hold.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// How many lines were dropped to stay in bounds.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

/// The ring, shared by the reader threads and the UI; cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct OutputPane {
    ring: Arc<Mutex<OutputRing>>,
    /// Set when the UI has been sent a wake-up it has not handled yet.
    woken: Arc<AtomicBool>,
}

impl OutputPane {
    fn ring(&self) -> MutexGuard<'_, OutputRing> {
        self.ring.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Appends one line of text (control characters are escaped).
    pub fn push(&mut self, line: String) {
        self.ring().push_shown(show_bytes(line.as_bytes()));
    }

    /// Appends lines from a reader thread; true when the UI should be woken
    /// (it was not already).
    pub fn push_lines(&self, lines: &mut Vec<String>, dropped: u64) -> bool {
        if lines.is_empty() && dropped == 0 {
            return false;
        }
        {
            let mut ring = self.ring();
            ring.dropped += dropped;
            for line in lines.drain(..) {
                ring.push_shown(line);
            }
        }
        !self.woken.swap(true, Ordering::SeqCst)
    }

    /// The UI handled the wake-up: the next lines wake it again.
    pub fn woke(&self) {
        self.woken.store(false, Ordering::SeqCst);
    }

    pub fn is_empty(&self) -> bool {
        self.ring().lines.is_empty()
    }

    /// A copy of the ring as it is now, for drawing.
    pub fn snapshot(&self) -> OutputRing {
        self.ring().clone()
    }

    /// The last `n` lines.
    pub fn last(&self, n: usize) -> Vec<String> {
        let ring = self.ring();
        let skip = ring.lines.len().saturating_sub(n);
        ring.lines.iter().skip(skip).cloned().collect()
    }

    /// How many lines were dropped to stay in bounds.
    pub fn dropped(&self) -> u64 {
        self.ring().dropped
    }

    /// The bytes the kept lines hold.
    pub fn bytes(&self) -> usize {
        self.ring().bytes
    }
}

/// Splits a byte stream into printable lines.
#[derive(Debug, Default)]
pub struct LineSplitter {
    current: Vec<u8>,
    /// Bytes of the current line past [`MAX_LINE`], not kept.
    cut: u64,
}

impl LineSplitter {
    /// Feeds bytes; each line they finish goes to `out`.
    pub fn feed(&mut self, mut bytes: &[u8], out: &mut Vec<String>) {
        while !bytes.is_empty() {
            let (part, next) = match memchr::memchr(b'\n', bytes) {
                Some(i) => (&bytes[..i], Some(i + 1)),
                None => (bytes, None),
            };
            let keep = part.len().min(MAX_LINE.saturating_sub(self.current.len()));
            self.current.extend_from_slice(&part[..keep]);
            self.cut += (part.len() - keep) as u64;
            match next {
                Some(next) => {
                    out.push(self.take());
                    bytes = &bytes[next..];
                }
                None => break,
            }
        }
    }

    /// The unfinished last line, at the end of the stream.
    pub fn finish(&mut self) -> Option<String> {
        (!self.current.is_empty() || self.cut > 0).then(|| self.take())
    }

    fn take(&mut self) -> String {
        let mut line = show_bytes(&self.current);
        if self.cut > 0 {
            let _ = write!(line, "… ({} more bytes)", self.cut);
        }
        self.current.clear();
        self.cut = 0;
        line
    }
}

/// Bytes as printable text: UTF-8 with control characters escaped, any
/// other byte as `\xHH`.
pub fn show_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(&escape(chunk.valid()));
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_utf8_is_escaped_and_the_next_line_still_read() {
        let mut split = LineSplitter::default();
        let mut out = Vec::new();
        split.feed(b"ok\n\xff\xfebad \x1b[2J\nnext", &mut out);
        assert_eq!(out, vec!["ok", "\\xff\\xfebad \\u{1b}[2J"]);
        assert_eq!(split.finish().as_deref(), Some("next"));
    }

    #[test]
    fn a_huge_line_keeps_its_start_and_counts_the_rest() {
        let mut split = LineSplitter::default();
        let mut out = Vec::new();
        for _ in 0..100 {
            split.feed(&[b'a'; 10_000], &mut out);
        }
        split.feed(b"\n", &mut out);
        assert_eq!(out.len(), 1);
        assert!(out[0].starts_with(&"a".repeat(MAX_LINE)));
        assert!(out[0].ends_with(&format!("({} more bytes)", 1_000_000 - MAX_LINE)));
    }

    #[test]
    fn the_ring_stays_in_bounds_and_counts_what_it_dropped() {
        let pane = OutputPane::default();
        let mut lines: Vec<String> = (0..2000).map(|i| format!("{i:>1000}")).collect();
        assert!(
            pane.push_lines(&mut lines, 0),
            "the first lines wake the UI"
        );
        let mut more = vec!["x".to_string()];
        assert!(!pane.push_lines(&mut more, 0), "one wake-up at a time");
        let ring = pane.snapshot();
        assert!(ring.bytes() <= MAX_BYTES && ring.lines().len() <= MAX_LINES);
        assert_eq!(ring.dropped() + ring.lines().len() as u64, 2001);
        pane.woke();
        let mut again = vec!["y".to_string()];
        assert!(pane.push_lines(&mut again, 0), "woken again once handled");
    }
}
