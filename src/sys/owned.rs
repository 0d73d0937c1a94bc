//! Memory pvtui owns rather than the target's: files mapped for parsing,
//! and buffers filled front to back while their front is read.
#![allow(unsafe_code)]

use std::io;

/// Maps a whole file read-only (`mmap(2)` through memmap2), so debug info is
/// paged in as it is used instead of being read up front.
pub fn map_file(file: &std::fs::File) -> io::Result<memmap2::Mmap> {
    // SAFETY: the mapping is private and read-only, and its bytes are parsed
    // as untrusted input. Debug files are not rewritten in place by package
    // managers (they are replaced by rename), so the pages do not change under
    // the parser; a file truncated meanwhile would raise SIGBUS, as in gdb.
    unsafe { memmap2::Mmap::map(file) }
}

/// Bytes written front to back while the part already written is read (a
/// section inflated as far as it is needed): a fixed capacity, one writer
/// at a time, and readers that see only the complete prefix, which never
/// moves or changes once written.
pub struct FillBuffer {
    /// A leaked `Box<[u8]>` of `cap` bytes, owned (freed in `Drop`).
    ptr: std::ptr::NonNull<[u8]>,
    cap: usize,
    filled: std::sync::atomic::AtomicUsize,
    writer: std::sync::Mutex<()>,
}

// SAFETY: the buffer is owned memory; readers only read the prefix below
// `filled`, and only the one writer holding `writer` writes above it.
unsafe impl Send for FillBuffer {}
// SAFETY: as above: shared readers and the writer touch disjoint bytes.
unsafe impl Sync for FillBuffer {}

impl FillBuffer {
    /// An empty buffer for `cap` bytes (zeroed lazily by the allocator).
    pub fn new(cap: usize) -> FillBuffer {
        let ptr = std::ptr::NonNull::from(Box::leak(vec![0u8; cap].into_boxed_slice()));
        FillBuffer {
            ptr,
            cap,
            filled: std::sync::atomic::AtomicUsize::new(0),
            writer: std::sync::Mutex::new(()),
        }
    }

    pub fn capacity(&self) -> usize {
        self.cap
    }

    /// The bytes written so far.
    pub fn filled(&self) -> &[u8] {
        let len = self.filled.load(std::sync::atomic::Ordering::Acquire);
        // SAFETY: `ptr` holds `cap` initialised bytes and `len <= cap`; the
        // prefix below `filled` is never written again, so a shared slice
        // of it may live as long as `self`.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr().cast::<u8>(), len) }
    }

    /// Lets `write` fill the front of the unwritten rest and returns how
    /// many bytes it says it wrote (at most the rest's length).
    pub fn fill<E>(&self, write: impl FnOnce(&mut [u8]) -> Result<usize, E>) -> Result<usize, E> {
        let _only_writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let start = self.filled.load(std::sync::atomic::Ordering::Acquire);
        let rest = self.cap - start;
        // SAFETY: `start <= cap`, so the range lies in the buffer; no reader
        // sees bytes at or past `filled`, and the lock makes this the only
        // mutable view of them.
        let spare = unsafe {
            std::slice::from_raw_parts_mut(self.ptr.as_ptr().cast::<u8>().add(start), rest)
        };
        let wrote = write(spare)?.min(rest);
        self.filled
            .store(start + wrote, std::sync::atomic::Ordering::Release);
        Ok(wrote)
    }
}

impl Drop for FillBuffer {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from `Box::leak` in `new` and is freed once,
        // here; `&mut self` means no slice of the buffer is still alive.
        drop(unsafe { Box::from_raw(self.ptr.as_ptr()) });
    }
}
