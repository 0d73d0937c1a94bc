//! Compact, file-backed storage of value-scan candidates.
//!
//! A first scan can match millions of places, so candidates never live in
//! memory all at once: they are written as they are found, one record per
//! 64 KiB block of address space, and read back one block at a time when
//! narrowing. A record stores its places either as a bitmap of slots or as a
//! list of 16-bit offsets (whichever is smaller), and their values either
//! once (all equal, as after `eq X`) or one per place. The same file is what
//! `pvtui scan --save` writes and `--from` reads.
//!
//! Layout (little endian): a header (`MAGIC`, version, pid, type, aligned,
//! tolerance, count, scans, the process's identity, a CRC-32), then records
//! of `base u64, count u32, flags u8, payload_len u32, payload`. In a scan
//! of type `int` each record holds places of one width, named in its flags
//! ([`width_flags`]); a snapshot's pages hold every width. The CRC
//! covers the records and then the header (with the CRC field zero), so a
//! flipped byte anywhere is found before the file is used.
//!
//! A file is written under a temporary name beside its destination and
//! renamed into place only when complete: a failed scan leaves the old file
//! as it was and no partial file behind.

use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::error::{Error, Result};
use crate::search::identity::ProcessIdentity;
use crate::search::records::{BlockReader, OrderedReader, PageRecordOut};
use crate::search::value::ValueType;

const MAGIC: &[u8; 8] = b"PVTUISCN";
const VERSION: u32 = 4;
/// Version 2 files hold no page records, and versions before 4 no `int`
/// scans; otherwise they read the same.
const OLDEST_VERSION: u32 = 2;
/// The first version whose scans can be of type `int`.
const INT_VERSION: u32 = 4;
const COUNT_AT: u64 = 8 + 4 + 4 + 1 + 1 + 8;
const IDENTITY_AT: usize = 8 + 4 + 4 + 1 + 1 + 8 + 8 + 4;
const CRC_AT: usize = IDENTITY_AT + 40;
pub(crate) const HEADER_LEN: u64 = CRC_AT as u64 + 4;
/// A record's head: base, count, flags, payload length.
pub(crate) const RECORD_HEAD: usize = 17;
pub(crate) const BLOCK_SHIFT: u32 = 16;
pub(crate) const BLOCK: u64 = 1 << BLOCK_SHIFT;
pub(crate) const FLAG_BITMAP: u8 = 1;
pub(crate) const FLAG_UNIFORM: u8 = 2;
/// The record holds a snapshot's pages (see [`crate::search::records`]).
pub(crate) const FLAG_PAGES: u8 = 4;
const WIDTH_SHIFT: u32 = 3;
/// The width of an `int` scan's places in a record: see [`width_flags`].
pub(crate) const FLAG_WIDTH: u8 = 3 << WIDTH_SHIFT;

/// The flag bits naming a width of 1, 2, 4 or 8 bytes (its log2, in bits 3-4).
pub(crate) fn width_flags(width: usize) -> u8 {
    ((width.trailing_zeros() as u8) << WIDTH_SHIFT) & FLAG_WIDTH
}

/// The width that a record's flags name.
pub(crate) fn flags_width(flags: u8) -> usize {
    1 << ((flags & FLAG_WIDTH) >> WIDTH_SHIFT)
}

/// What a scan file says about its scan.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScanHeader {
    pub pid: i32,
    pub ty: ValueType,
    /// Only places aligned to the type's size were considered.
    pub aligned: bool,
    /// Float comparisons treat values this close as equal.
    pub tolerance: f64,
    /// How many places survive.
    pub count: u64,
    /// How many scans (the first one and each narrowing) led here.
    pub scans: u32,
    /// The process scanned, so a later narrowing can refuse another one.
    pub identity: ProcessIdentity,
}

impl ScanHeader {
    /// The distance between places `width` bytes wide.
    pub(crate) fn step_of(&self, width: usize) -> u64 {
        if self.aligned { width as u64 } else { 1 }
    }

    /// The places of every width in `len` bytes from an aligned start.
    pub(crate) fn places_in(&self, len: usize) -> u64 {
        self.ty
            .widths()
            .iter()
            .map(|w| len as u64 / self.step_of(w.size()))
            .sum()
    }

    /// The header's bytes with the CRC field zero.
    fn encode(&self) -> [u8; HEADER_LEN as usize] {
        let mut head = [0u8; HEADER_LEN as usize];
        head[..8].copy_from_slice(MAGIC);
        head[8..12].copy_from_slice(&VERSION.to_le_bytes());
        head[12..16].copy_from_slice(&self.pid.to_le_bytes());
        head[16] = self.ty.code();
        head[17] = u8::from(self.aligned);
        head[18..26].copy_from_slice(&self.tolerance.to_le_bytes());
        head[26..34].copy_from_slice(&self.count.to_le_bytes());
        head[34..38].copy_from_slice(&self.scans.to_le_bytes());
        head[IDENTITY_AT..CRC_AT].copy_from_slice(&self.identity.to_bytes());
        head
    }

    /// The largest payload a record of this scan can have: a bitmap and a
    /// value for every slot.
    pub(crate) fn max_payload(&self) -> usize {
        let most = self
            .ty
            .widths()
            .iter()
            .map(|w| {
                let slots = (BLOCK / self.step_of(w.size())) as usize;
                slots.div_ceil(8) + slots * w.size()
            })
            .max()
            .unwrap_or(0);
        // A page record: its mask, encoding and the raw pages at most.
        most.max(3 + BLOCK as usize)
    }
}

/// One surviving place and the value it held at the last scan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub addr: u64,
    pub bits: u64,
    /// The place's width in bytes: the scan type's size, or for an `int`
    /// scan the width it matched at (1, 2, 4 or 8).
    pub width: u8,
}

impl Candidate {
    /// The place's own type in a scan of type `scan`: u8 to u64 for `int`.
    pub fn ty(&self, scan: ValueType) -> ValueType {
        scan.with_width(usize::from(self.width)).unwrap_or(scan)
    }
}

/// Candidates of one block and one width, being collected in address order.
#[derive(Debug, Default)]
pub(crate) struct BlockBuf {
    pub base: u64,
    /// The places' width; 0: the scan type's own size.
    pub width: u8,
    pub offsets: Vec<u16>,
    pub values: Vec<u64>,
}

/// Candidates being collected, one [`BlockBuf`] per width, so each width's
/// places stay in address order and a record holds one width.
#[derive(Debug, Default)]
pub(crate) struct Blocks([BlockBuf; 4]);

impl Blocks {
    /// Adds a place; returns the finished block of its width when `addr`
    /// starts a new one.
    pub fn push(&mut self, addr: u64, width: usize, bits: u64) -> Option<BlockBuf> {
        let buf = &mut self.0[width.trailing_zeros() as usize & 3];
        buf.width = width as u8;
        let done = buf.push(addr, bits);
        buf.width = width as u8;
        done
    }

    /// The blocks not yet finished.
    pub fn take(&mut self) -> impl Iterator<Item = BlockBuf> + '_ {
        self.0.iter_mut().filter_map(BlockBuf::take)
    }
}

impl BlockBuf {
    /// Adds a place; returns the finished block when `addr` starts a new one.
    pub fn push(&mut self, addr: u64, bits: u64) -> Option<BlockBuf> {
        let base = addr & !(BLOCK - 1);
        let done = if base != self.base && !self.offsets.is_empty() {
            Some(std::mem::take(self))
        } else {
            None
        };
        self.base = base;
        self.offsets.push((addr - base) as u16);
        self.values.push(bits);
        done
    }

    pub fn take(&mut self) -> Option<BlockBuf> {
        (!self.offsets.is_empty()).then(|| std::mem::take(self))
    }

    pub fn len(&self) -> usize {
        self.offsets.len()
    }
}

pub(crate) fn scan_err(path: &Path, why: impl ToString) -> Error {
    Error::ScanFile {
        path: path.display().to_string(),
        why: why.to_string(),
    }
}

/// A fresh file name in the temporary directory.
#[cfg(test)]
pub(crate) fn temp_path() -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    std::env::temp_dir().join(format!("pvtui-scan-{}-{nanos}-{n}", std::process::id()))
}

/// Writes a scan file record by record, under a temporary name until
/// [`ScanWriter::finish`]; dropped unfinished, it leaves nothing behind.
pub(crate) struct ScanWriter {
    out: BufWriter<NamedTempFile>,
    /// Where the file goes when finished; `None`: it stays temporary.
    dest: Option<PathBuf>,
    header: ScanHeader,
    /// CRC-32 of the records written so far.
    crc: crc32fast::Hasher,
    /// Sees the first places as they are written.
    tap: Option<Tap>,
}

/// Where a writer sends the first places it writes, and how many more.
pub(crate) struct Tap {
    pub left: usize,
    pub sink: Box<dyn FnMut(Vec<Candidate>) + Send>,
}

impl ScanWriter {
    /// A writer for `dest`, or for a temporary file removed when its
    /// [`ScanFile`] drops.
    pub fn create(dest: Option<&Path>, mut header: ScanHeader) -> Result<ScanWriter> {
        let file = match dest {
            Some(dest) => {
                // Beside the destination, so the final rename stays on one filesystem.
                let dir = match dest.parent() {
                    Some(p) if !p.as_os_str().is_empty() => p,
                    _ => Path::new("."),
                };
                NamedTempFile::with_prefix_in(".pvtui-scan-", dir).map_err(|e| scan_err(dest, e))?
            }
            None => NamedTempFile::with_prefix("pvtui-scan-")
                .map_err(|e| scan_err(&std::env::temp_dir(), e))?,
        };
        header.count = 0;
        let mut w = ScanWriter {
            out: BufWriter::with_capacity(1 << 16, file),
            dest: dest.map(Path::to_path_buf),
            header,
            crc: crc32fast::Hasher::new(),
            tap: None,
        };
        let head = w.header.encode();
        w.out
            .write_all(&head)
            .map_err(|e| scan_err(w.out.get_ref().path(), e))?;
        Ok(w)
    }

    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.crc.update(bytes);
        self.out
            .write_all(bytes)
            .map_err(|e| scan_err(self.out.get_ref().path(), e))
    }

    /// Sends the first `left` places written from now on to `sink`.
    pub fn tap(&mut self, left: usize, sink: Box<dyn FnMut(Vec<Candidate>) + Send>) {
        self.tap = Some(Tap { left, sink });
    }

    pub fn write_block(&mut self, block: &BlockBuf) -> Result<()> {
        if block.offsets.is_empty() {
            return Ok(());
        }
        let ty = self.header.ty;
        let width = match block.width {
            0 => ty.size(),
            w => usize::from(w),
        };
        if ty.with_width(width).is_none() || (ty.is_any_int() && block.width == 0) {
            return Err(Error::Internal(format!(
                "a {width}-byte place in a {ty} scan"
            )));
        }
        if let Some(tap) = self.tap.as_mut().filter(|t| t.left > 0) {
            let shown: Vec<Candidate> = block
                .offsets
                .iter()
                .zip(&block.values)
                .take(tap.left)
                .map(|(&off, &bits)| Candidate {
                    addr: block.base + u64::from(off),
                    bits,
                    width: u8::try_from(width).unwrap_or(0),
                })
                .collect();
            tap.left -= shown.len();
            (tap.sink)(shown);
        }
        let step = self.header.step_of(width);
        let slots = (BLOCK / step) as usize;
        let bitmap_len = slots.div_ceil(8);
        let bitmap = bitmap_len < block.offsets.len() * 2;
        let uniform = block.values.iter().all(|v| *v == block.values[0]);
        let mut payload = Vec::new();
        if bitmap {
            let mut bits = vec![0u8; bitmap_len];
            for &off in &block.offsets {
                let slot = (u64::from(off) / step) as usize;
                bits[slot / 8] |= 1 << (slot % 8);
            }
            payload.extend_from_slice(&bits);
        } else {
            for &off in &block.offsets {
                payload.extend_from_slice(&off.to_le_bytes());
            }
        }
        if uniform {
            payload.extend_from_slice(&block.values[0].to_le_bytes()[..width]);
        } else {
            for v in &block.values {
                payload.extend_from_slice(&v.to_le_bytes()[..width]);
            }
        }
        let flags = if bitmap { FLAG_BITMAP } else { 0 }
            | if uniform { FLAG_UNIFORM } else { 0 }
            | if ty.is_any_int() {
                width_flags(width)
            } else {
                0
            };
        let mut head = Vec::with_capacity(17);
        head.extend_from_slice(&block.base.to_le_bytes());
        head.extend_from_slice(&(block.offsets.len() as u32).to_le_bytes());
        head.push(flags);
        head.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        self.write(&head)?;
        self.write(&payload)?;
        self.header.count += block.offsets.len() as u64;
        Ok(())
    }

    /// Writes a snapshot's pages of one block, encoded by [`PageRecordOut::encode`].
    pub fn write_pages(&mut self, rec: &PageRecordOut) -> Result<()> {
        let places = self
            .header
            .places_in(rec.mask.count_ones() as usize * crate::search::records::SNAP_PAGE);
        let mut head = Vec::with_capacity(RECORD_HEAD + 3);
        head.extend_from_slice(&rec.base.to_le_bytes());
        head.extend_from_slice(&(places as u32).to_le_bytes());
        head.push(FLAG_PAGES);
        head.extend_from_slice(&((rec.payload.len() + 3) as u32).to_le_bytes());
        head.extend_from_slice(&rec.mask.to_le_bytes());
        head.push(rec.encoding);
        self.write(&head)?;
        self.write(&rec.payload)?;
        self.header.count += places;
        Ok(())
    }

    pub fn count(&self) -> u64 {
        self.header.count
    }

    /// Where the file goes when finished; `None` for a temporary file.
    pub fn dest(&self) -> Option<&Path> {
        self.dest.as_deref()
    }

    /// Writes the final count and CRC, and moves the file into place.
    pub fn finish(self) -> Result<ScanFile> {
        let mut crc = self.crc.clone();
        let head = self.header.encode();
        crc.update(&head);
        let sum = crc.finalize();
        let temp = self.out.get_ref().path().to_path_buf();
        let mut file = self
            .out
            .into_inner()
            .map_err(|e| scan_err(&temp, e.error()))?;
        file.seek(SeekFrom::Start(COUNT_AT))
            .and_then(|_| file.write_all(&self.header.count.to_le_bytes()))
            .and_then(|_| file.seek(SeekFrom::Start(CRC_AT as u64)))
            .and_then(|_| file.write_all(&sum.to_le_bytes()))
            .and_then(|_| file.flush())
            .map_err(|e| scan_err(&temp, e))?;
        let (path, temporary) = match self.dest {
            Some(dest) => {
                file.persist(&dest).map_err(|e| scan_err(&dest, e.error))?;
                (dest, false)
            }
            None => {
                let (_, path) = file.keep().map_err(|e| scan_err(&temp, e.error))?;
                (path, true)
            }
        };
        Ok(ScanFile {
            path,
            header: Box::new(self.header),
            temporary,
        })
    }
}

/// A finished scan: its header and the file holding its candidates.
#[derive(Debug)]
pub struct ScanFile {
    path: PathBuf,
    /// Boxed: a finished search's summary carries a `ScanFile` through the event channel.
    header: Box<ScanHeader>,
    temporary: bool,
}

impl ScanFile {
    /// Opens a file written by `pvtui scan --save`, checking its CRC.
    pub fn open(path: &Path) -> Result<ScanFile> {
        // Non-blocking: a FIFO at the path is refused, not waited on.
        let mut f = crate::sys::file::open_regular(path).map_err(|e| scan_err(path, e))?;
        let mut head = [0u8; HEADER_LEN as usize];
        f.read_exact(&mut head)
            .map_err(|_| scan_err(path, "not a pvtui scan file (too short)"))?;
        if &head[..8] != MAGIC {
            return Err(scan_err(path, "not a pvtui scan file"));
        }
        let u32_at =
            |i: usize| u32::from_le_bytes([head[i], head[i + 1], head[i + 2], head[i + 3]]);
        let u64_at = |i: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&head[i..i + 8]);
            u64::from_le_bytes(b)
        };
        if !(OLDEST_VERSION..=VERSION).contains(&u32_at(8)) {
            return Err(scan_err(
                path,
                format!(
                    "version {} is not supported (this pvtui reads version {VERSION}: scan again)",
                    u32_at(8)
                ),
            ));
        }
        let stored = u32_at(CRC_AT);
        let mut crc = crc32fast::Hasher::new();
        // Large reads: the checksum pass over a gigabyte snapshot is one
        // syscall per MiB, not per 64 KiB.
        let mut buf = vec![0u8; 1 << 20];
        loop {
            match f.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => crc.update(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(scan_err(path, e)),
            }
        }
        let mut zeroed = head;
        zeroed[CRC_AT..].fill(0);
        crc.update(&zeroed);
        if crc.finalize() != stored {
            return Err(scan_err(
                path,
                "corrupt: its checksum does not match (the file was left as it is)",
            ));
        }
        let ty = ValueType::from_code(head[16])
            .filter(|t| !t.is_any_int() || u32_at(8) >= INT_VERSION)
            .ok_or_else(|| scan_err(path, "unknown value type"))?;
        let mut identity = [0u8; 40];
        identity.copy_from_slice(&head[IDENTITY_AT..CRC_AT]);
        Ok(ScanFile {
            path: path.to_path_buf(),
            header: Box::new(ScanHeader {
                pid: u32_at(12) as i32,
                ty,
                aligned: head[17] != 0,
                tolerance: f64::from_bits(u64_at(18)),
                count: u64_at(26),
                scans: u32_at(34),
                identity: ProcessIdentity::from_bytes(&identity),
            }),
            temporary: false,
        })
    }

    pub fn header(&self) -> &ScanHeader {
        &self.header
    }

    pub fn count(&self) -> u64 {
        self.header.count
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Keeps the file at `dest` (moved there) instead of removing it on drop.
    pub fn persist(&mut self, dest: &Path) -> Result<()> {
        if self.path != dest {
            std::fs::rename(&self.path, dest)
                .or_else(|_| std::fs::copy(&self.path, dest).map(|_| ()))
                .map_err(|e| scan_err(dest, e))?;
            if self.temporary {
                let _ = std::fs::remove_file(&self.path);
            }
            self.path = dest.to_path_buf();
        }
        self.temporary = false;
        Ok(())
    }

    /// Reads the candidates back block by block.
    pub fn blocks(&self) -> Result<BlockReader> {
        let mut f =
            crate::sys::file::open_regular(&self.path).map_err(|e| scan_err(&self.path, e))?;
        f.seek(SeekFrom::Start(HEADER_LEN))
            .map_err(|e| scan_err(&self.path, e))?;
        Ok(BlockReader {
            input: BufReader::with_capacity(1 << 16, f),
            header: *self.header,
            path: self.path.clone(),
        })
    }

    /// Reads the candidates back block by block in address order.
    pub fn ordered(&self) -> Result<OrderedReader> {
        OrderedReader::new(self.blocks()?)
    }

    /// The first `n` candidates in address order.
    pub fn first(&self, n: usize) -> Result<Vec<Candidate>> {
        let mut out = Vec::new();
        let mut blocks = self.ordered()?;
        while out.len() < n {
            let Some(block) = blocks.next_block()? else {
                break;
            };
            out.extend(block.into_iter().take(n - out.len()));
        }
        Ok(out)
    }
}

impl Drop for ScanFile {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
