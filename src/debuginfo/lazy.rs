//! A zlib-compressed section inflated only as far as it is read. A lookup
//! that finds its variable in the first units of libc's `.debug_info`
//! inflates those units and stops; a later lookup resumes the same inflater
//! where the last one stopped, and a full read (the name index) finishes it.

use std::sync::Mutex;

use flate2::{Decompress, FlushDecompress, Status};

use super::file::{DResult, DebugError};
use crate::sys::FillBuffer;

/// The least one step inflates, so that many small reads cost few calls.
const STEP: usize = 64 << 10;

pub(super) struct Lazy {
    name: &'static str,
    out: FillBuffer,
    /// The inflater, and how many compressed bytes it has consumed.
    state: Mutex<(Decompress, usize)>,
}

impl Lazy {
    /// A section of `size` bytes once inflated (the size its header claims,
    /// already checked against the compressed size).
    pub fn new(name: &'static str, size: usize) -> Lazy {
        Lazy {
            name,
            out: FillBuffer::new(size),
            state: Mutex::new((Decompress::new(true), 0)),
        }
    }

    /// The section's first `end` bytes (all of it when shorter), inflating
    /// from `input` (the compressed bytes) as far as needed; at least what
    /// was inflated before.
    pub fn upto<'a>(&'a self, input: &[u8], end: usize) -> DResult<&'a [u8]> {
        let want = end.min(self.out.capacity());
        if self.out.filled().len() >= want {
            return Ok(self.out.filled());
        }
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (inflater, read) = &mut *state;
        loop {
            let have = self.out.filled().len();
            if have >= want {
                return Ok(self.out.filled());
            }
            let mut status = Status::Ok;
            let mut consumed = 0;
            let wrote = self.out.fill(|spare| {
                let room = spare.len().min((want - have).max(STEP));
                let rest = input.get(*read..).unwrap_or_default();
                let (in_before, out_before) = (inflater.total_in(), inflater.total_out());
                status = inflater
                    .decompress(rest, &mut spare[..room], FlushDecompress::None)
                    .map_err(|e| DebugError(format!("{}: cannot decompress: {e}", self.name)))?;
                consumed = usize::try_from(inflater.total_in() - in_before).unwrap_or(usize::MAX);
                usize::try_from(inflater.total_out() - out_before)
                    .map_err(|_| DebugError(format!("{}: inflater overran", self.name)))
            })?;
            *read = read.saturating_add(consumed);
            let filled = self.out.filled().len();
            let short = || {
                DebugError(format!(
                    "{}: compressed data ends after {filled} of the {} bytes its header claims",
                    self.name,
                    self.out.capacity()
                ))
            };
            match status {
                _ if filled == self.out.capacity() => return Ok(self.out.filled()),
                Status::StreamEnd => return Err(short()),
                _ if wrote == 0 && consumed == 0 => return Err(short()),
                _ => {}
            }
        }
    }

    /// Whether every byte of the section has been inflated.
    pub fn complete(&self) -> bool {
        self.out.filled().len() == self.out.capacity()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn deflated(data: &[u8]) -> Vec<u8> {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(data).expect("compress");
        z.finish().expect("compress")
    }

    #[test]
    fn a_fill_buffer_shows_only_what_was_written_and_keeps_it() {
        let buf = FillBuffer::new(8);
        assert_eq!(buf.filled(), b"");
        let first = buf.filled();
        let wrote = buf.fill(|spare| -> Result<usize, ()> {
            spare[..3].copy_from_slice(b"abc");
            Ok(3)
        });
        assert_eq!(wrote, Ok(3));
        let prefix = buf.filled();
        // A writer that claims more than there is room for is clamped.
        assert_eq!(
            buf.fill(|spare| -> Result<usize, ()> { Ok(spare.len() + 9) }),
            Ok(5)
        );
        assert_eq!(
            (first, prefix, buf.filled().len()),
            (&b""[..], &b"abc"[..], 8)
        );
        assert_eq!(buf.fill(|_| Err::<usize, _>("full")), Err("full"));
        assert_eq!(FillBuffer::new(0).filled(), b"");
    }

    #[test]
    fn inflates_only_as_far_as_asked_then_resumes() {
        let data: Vec<u8> = (0..400_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let packed = deflated(&data);
        let lazy = Lazy::new(".debug_info", data.len());
        let first = lazy.upto(&packed, 10).expect("inflates");
        assert!(
            first.len() >= 10 && first.len() < data.len(),
            "{}",
            first.len()
        );
        assert_eq!(first, &data[..first.len()]);
        assert!(!lazy.complete());
        let more = lazy.upto(&packed, 300_000).expect("resumes");
        assert_eq!(more, &data[..more.len()]);
        assert!(more.len() >= 300_000);
        // What was handed out before is still there, unchanged.
        assert_eq!(first, &data[..first.len()]);
        assert_eq!(lazy.upto(&packed, usize::MAX).expect("all"), &data[..]);
        assert!(lazy.complete());
    }

    #[test]
    fn a_stream_shorter_than_its_claim_is_an_error() {
        let packed = deflated(b"only this");
        let lazy = Lazy::new(".debug_info", 100);
        let err = lazy.upto(&packed, 100).expect_err("short");
        assert!(err.0.contains("ends after 9 of the 100 bytes"), "{err}");
        let cut = &packed[..packed.len() / 2];
        let lazy = Lazy::new(".debug_info", 9);
        assert!(lazy.upto(cut, 9).is_err());
        assert!(Lazy::new(".debug_abbrev", 9).upto(b"not zlib", 9).is_err());
    }
}
