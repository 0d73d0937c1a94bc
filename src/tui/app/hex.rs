//! The hex pane: the shown range, the cursor, the last bytes read there,
//! which bytes changed lately, and where pointer-following came from.

use std::collections::HashMap;
use std::time::Instant;

use crate::process::ReadOutcome;
use crate::tui::app::HIGHLIGHT_FOR;

#[derive(Clone, Debug, Default)]
pub struct HexState {
    /// The first byte shown.
    pub base: u64,
    pub cursor: u64,
    pub data: Option<ReadOutcome>,
    /// Address → when its byte last changed.
    pub changed: HashMap<u64, Instant>,
    /// Where `p` followed from, for backspace.
    pub back: Vec<u64>,
    /// The variable and field at an address (the cursor's, once the poller said).
    pub label: Option<(u64, String)>,
    /// The name of the address the 8 bytes under the cursor point to, once
    /// the poller said (`None` inside: anonymous memory).
    pub pointee: Option<(u64, Option<String>)>,
    /// The pointer last asked to be named, so it is asked once.
    pub asked: Option<u64>,
    /// The other target the bytes are read through, by pid; none for the main one.
    pub through: Option<i32>,
}

impl HexState {
    /// Puts the cursor on `addr`, its row of `cols` bytes first; the old
    /// bytes are dropped.
    pub fn open(&mut self, addr: u64, cols: u64) {
        self.cursor = addr;
        self.base = addr - addr % cols;
        self.data = None;
        self.changed.clear();
    }

    /// The range shown in `rows` rows of `cols` bytes, ending at the top of
    /// the address space at the latest.
    pub fn range(&self, rows: usize, cols: u64) -> (u64, usize) {
        let rows = rows.max(1) as u64;
        let len = (rows * cols).min((u64::MAX - self.base).saturating_add(1));
        (self.base, len as usize)
    }

    /// Starts the rows on a multiple of `cols` again (the terminal's width
    /// changed how many bytes a row holds), the cursor still in view.
    pub fn realign(&mut self, rows: usize, cols: u64) {
        if self.base % cols != 0 {
            self.base -= self.base % cols;
            self.data = None;
        }
        self.move_cursor(0, rows, cols);
    }

    /// Moves the cursor by `bytes`, scrolling to keep it within `rows` rows
    /// of `cols` bytes. True when the shown range moved (the bytes must be
    /// asked for again).
    pub fn move_cursor(&mut self, bytes: i64, rows: usize, cols: u64) -> bool {
        let cursor = if bytes < 0 {
            self.cursor.saturating_sub(bytes.unsigned_abs())
        } else {
            self.cursor.saturating_add(bytes as u64)
        };
        self.cursor = cursor;
        let rows = rows.max(1) as u64;
        let span = rows * cols;
        let old_base = self.base;
        if cursor < self.base {
            self.base = cursor - cursor % cols;
        } else if cursor >= self.base.saturating_add(span) {
            let row = cursor - cursor % cols;
            self.base = row.saturating_sub((rows - 1) * cols);
        }
        if self.base != old_base {
            self.data = None;
            return true;
        }
        false
    }

    /// Takes freshly read bytes, marking those that changed since the last read.
    pub fn apply(&mut self, hex: ReadOutcome, now: Instant) {
        if let Some(old) = &self.data {
            for (i, (a, b)) in old.data.iter().zip(&hex.data).enumerate() {
                let addr = hex.addr + i as u64;
                if old.addr == hex.addr
                    && a != b
                    && old.unread_at(addr).is_none()
                    && hex.unread_at(addr).is_none()
                {
                    self.changed.insert(addr, now);
                }
            }
        }
        self.changed
            .retain(|_, t| now.duration_since(*t) < HIGHLIGHT_FOR);
        self.data = Some(hex);
    }

    /// The `n` bytes at the cursor, when every one of them was read.
    pub fn bytes_at_cursor(&self, n: usize) -> Option<&[u8]> {
        let data = self.data.as_ref()?;
        let off = self.cursor.checked_sub(data.addr)? as usize;
        let bytes = data.data.get(off..off.checked_add(n)?)?;
        if (0..n as u64).any(|i| data.unread_at(self.cursor + i).is_some()) {
            return None;
        }
        Some(bytes)
    }

    /// The pointer under the cursor when it is not yet named and not
    /// asked about: the one to ask the poller to name.
    pub fn pointer_to_name(&mut self) -> Option<u64> {
        let ptr = self.pointer_at_cursor()?;
        if self.asked == Some(ptr) || self.pointee.as_ref().is_some_and(|(a, _)| *a == ptr) {
            return None;
        }
        self.asked = Some(ptr);
        Some(ptr)
    }

    /// The name of `ptr`'s target, when the poller gave it.
    pub fn pointee_of(&self, ptr: u64) -> Option<&str> {
        match &self.pointee {
            Some((at, Some(place))) if *at == ptr => Some(place),
            _ => None,
        }
    }

    /// The 8 bytes under the cursor as a little-endian pointer.
    pub fn pointer_at_cursor(&self) -> Option<u64> {
        let bytes = self.bytes_at_cursor(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(bytes);
        Some(u64::from_le_bytes(a))
    }
}

/// `de ad be ef` or `deadbeef`: the one hex-bytes parser, and at least one byte.
pub fn parse_hex_bytes(text: &str) -> Result<Vec<u8>, String> {
    match crate::literal::parse_hex_bytes(text)? {
        bytes if bytes.is_empty() => Err("expected hex bytes, e.g. de ad be ef".into()),
        bytes => Ok(bytes),
    }
}

/// `de ad be ef`.
pub fn hex_bytes(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}
