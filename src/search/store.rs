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
//! of `base u64, count u32, flags u8, payload_len u32, payload`. The CRC
//! covers the records and then the header (with the CRC field zero), so a
//! flipped byte anywhere is found before the file is used.
//!
//! A file is written under a temporary name beside its destination and
//! renamed into place only when complete: a failed scan leaves the old file
//! as it was and no partial file behind.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::error::{Error, Result};
use crate::search::identity::ProcessIdentity;
use crate::search::value::ValueType;

const MAGIC: &[u8; 8] = b"PVTUISCN";
const VERSION: u32 = 2;
const COUNT_AT: u64 = 8 + 4 + 4 + 1 + 1 + 8;
const IDENTITY_AT: usize = 8 + 4 + 4 + 1 + 1 + 8 + 8 + 4;
const CRC_AT: usize = IDENTITY_AT + 40;
const HEADER_LEN: u64 = CRC_AT as u64 + 4;
/// A record's head: base, count, flags, payload length.
const RECORD_HEAD: usize = 17;
pub(crate) const BLOCK_SHIFT: u32 = 16;
const BLOCK: u64 = 1 << BLOCK_SHIFT;
const FLAG_BITMAP: u8 = 1;
const FLAG_UNIFORM: u8 = 2;

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
    fn step(&self) -> u64 {
        if self.aligned {
            self.ty.size() as u64
        } else {
            1
        }
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
    fn max_payload(&self) -> usize {
        let slots = (BLOCK / self.step()) as usize;
        slots.div_ceil(8) + slots * self.ty.size()
    }
}

/// One surviving place and the value it held at the last scan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub addr: u64,
    pub bits: u64,
}

/// Candidates of one block, being collected in address order.
#[derive(Debug, Default)]
pub(crate) struct BlockBuf {
    pub base: u64,
    pub offsets: Vec<u16>,
    pub values: Vec<u64>,
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

fn scan_err(path: &Path, why: impl ToString) -> Error {
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

    pub fn write_block(&mut self, block: &BlockBuf) -> Result<()> {
        if block.offsets.is_empty() {
            return Ok(());
        }
        let ty = self.header.ty;
        let width = ty.size();
        let step = self.header.step();
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
        let flags = if bitmap { FLAG_BITMAP } else { 0 } | if uniform { FLAG_UNIFORM } else { 0 };
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

    pub fn count(&self) -> u64 {
        self.header.count
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
        let mut f = File::open(path).map_err(|e| scan_err(path, e))?;
        if !f.metadata().map_err(|e| scan_err(path, e))?.is_file() {
            return Err(scan_err(path, "not a regular file"));
        }
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
        if u32_at(8) != VERSION {
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
        let mut buf = vec![0u8; 1 << 16];
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
        let ty =
            ValueType::from_code(head[16]).ok_or_else(|| scan_err(path, "unknown value type"))?;
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
        let mut f = File::open(&self.path).map_err(|e| scan_err(&self.path, e))?;
        f.seek(SeekFrom::Start(HEADER_LEN))
            .map_err(|e| scan_err(&self.path, e))?;
        Ok(BlockReader {
            input: BufReader::with_capacity(1 << 16, f),
            header: *self.header,
            path: self.path.clone(),
        })
    }

    /// The first `n` candidates, in address order within each block.
    pub fn first(&self, n: usize) -> Result<Vec<Candidate>> {
        let mut out = Vec::new();
        let mut blocks = self.blocks()?;
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

/// Reads a scan file's records one at a time.
#[derive(Debug)]
pub struct BlockReader {
    input: BufReader<File>,
    header: ScanHeader,
    path: PathBuf,
}

impl BlockReader {
    /// The candidates of the next record, or `None` at the end.
    pub fn next_block(&mut self) -> Result<Option<Vec<Candidate>>> {
        let mut head = [0u8; RECORD_HEAD];
        match self.input.read_exact(&mut head) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(scan_err(&self.path, e)),
        }
        let mut b8 = [0u8; 8];
        b8.copy_from_slice(&head[..8]);
        let base = u64::from_le_bytes(b8);
        let count = u32::from_le_bytes([head[8], head[9], head[10], head[11]]) as usize;
        let flags = head[12];
        let len = u32::from_le_bytes([head[13], head[14], head[15], head[16]]) as usize;
        let corrupt = || scan_err(&self.path, format!("corrupt record at block {base:#x}"));
        // A crafted record must not size an allocation or place a value past the top of memory.
        let width = self.header.ty.size();
        if len > self.header.max_payload()
            || base & (BLOCK - 1) != 0
            || base.checked_add(BLOCK - 1 + width as u64).is_none()
        {
            return Err(corrupt());
        }
        let mut payload = vec![0u8; len];
        self.input
            .read_exact(&mut payload)
            .map_err(|_| scan_err(&self.path, "truncated record"))?;
        let step = self.header.step();
        let (offsets, values): (Vec<u64>, &[u8]) = if flags & FLAG_BITMAP != 0 {
            let bitmap_len = ((BLOCK / step) as usize).div_ceil(8);
            let bits = payload.get(..bitmap_len).ok_or_else(corrupt)?;
            let mut offs = Vec::with_capacity(count);
            for (i, byte) in bits.iter().enumerate() {
                let mut b = *byte;
                while b != 0 {
                    let bit = b.trailing_zeros() as usize;
                    offs.push((i * 8 + bit) as u64 * step);
                    b &= b - 1;
                }
            }
            (offs, &payload[bitmap_len..])
        } else {
            let list = payload.get(..count * 2).ok_or_else(corrupt)?;
            let offs = list
                .chunks_exact(2)
                .map(|c| u64::from(u16::from_le_bytes([c[0], c[1]])))
                .collect();
            (offs, &payload[count * 2..])
        };
        if offsets.len() != count {
            return Err(corrupt());
        }
        let uniform = flags & FLAG_UNIFORM != 0;
        let need = if uniform { width } else { width * count };
        if values.len() != need {
            return Err(corrupt());
        }
        let ty = self.header.ty;
        Ok(Some(
            offsets
                .iter()
                .enumerate()
                .map(|(i, off)| Candidate {
                    addr: base + off,
                    bits: ty.load(if uniform {
                        values
                    } else {
                        &values[i * width..]
                    }),
                })
                .collect(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(ty: ValueType, aligned: bool) -> ScanHeader {
        ScanHeader {
            pid: 42,
            ty,
            aligned,
            tolerance: 0.5,
            count: 0,
            scans: 1,
            identity: ProcessIdentity::default(),
        }
    }

    fn round_trip(h: ScanHeader, places: &[(u64, u64)]) -> Vec<Candidate> {
        let mut w = ScanWriter::create(None, h).expect("create");
        let mut block = BlockBuf::default();
        for &(addr, bits) in places {
            if let Some(done) = block.push(addr, bits) {
                w.write_block(&done).expect("write");
            }
        }
        if let Some(done) = block.take() {
            w.write_block(&done).expect("write");
        }
        let file = w.finish().expect("finish");
        let again = ScanFile::open(file.path()).expect("open");
        assert_eq!(again.header().count, places.len() as u64);
        assert_eq!(again.header().pid, 42);
        assert_eq!(again.header().tolerance, 0.5);
        again.first(usize::MAX).expect("read")
    }

    #[test]
    fn sparse_and_dense_blocks_round_trip() {
        let h = header(ValueType::U32, true);
        // Dense: every slot of a block (bitmap, uniform); sparse: a few (list, each).
        let mut places: Vec<(u64, u64)> = (0..BLOCK / 4).map(|i| (0x10000 + i * 4, 7)).collect();
        places.extend([(0x30004, 1), (0x30008, 2), (0x4fffc, 3)]);
        let back = round_trip(h, &places);
        let want: Vec<_> = places
            .iter()
            .map(|&(addr, bits)| Candidate { addr, bits })
            .collect();
        assert_eq!(back, want);
    }

    #[test]
    fn unaligned_u64_values_round_trip() {
        let h = header(ValueType::U64, false);
        let places: Vec<(u64, u64)> = (0..5000)
            .map(|i| (0x7000_0001 + i * 3, u64::MAX - i))
            .collect();
        let back = round_trip(h, &places);
        assert_eq!(back.len(), 5000);
        assert_eq!(
            back[4999],
            Candidate {
                addr: 0x7000_0001 + 4999 * 3,
                bits: u64::MAX - 4999
            }
        );
    }

    #[test]
    fn temporary_files_are_removed_and_garbage_is_refused() {
        let w = ScanWriter::create(None, header(ValueType::U8, true)).expect("create");
        let file = w.finish().expect("finish");
        let path = file.path().to_path_buf();
        assert!(path.exists());
        drop(file);
        assert!(!path.exists());
        let junk = temp_path();
        std::fs::write(&junk, b"hello, not a scan").expect("write");
        let err = ScanFile::open(&junk).expect_err("junk");
        assert!(err.to_string().contains("not a pvtui scan file"), "{err}");
        let _ = std::fs::remove_file(junk);
    }

    /// Sets the CRC of a file's bytes, as a crafted file would.
    fn seal(bytes: &mut [u8]) {
        let mut head = [0u8; HEADER_LEN as usize];
        head.copy_from_slice(&bytes[..HEADER_LEN as usize]);
        head[CRC_AT..].fill(0);
        let mut crc = crc32fast::Hasher::new();
        crc.update(&bytes[HEADER_LEN as usize..]);
        crc.update(&head);
        bytes[CRC_AT..CRC_AT + 4].copy_from_slice(&crc.finalize().to_le_bytes());
    }

    fn saved(places: &[(u64, u64)]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("scan");
        let mut w = ScanWriter::create(Some(&path), header(ValueType::U32, true)).expect("create");
        let mut block = BlockBuf::default();
        for &(addr, bits) in places {
            if let Some(done) = block.push(addr, bits) {
                w.write_block(&done).expect("write");
            }
        }
        if let Some(done) = block.take() {
            w.write_block(&done).expect("write");
        }
        w.finish().expect("finish");
        (dir, path)
    }

    #[test]
    fn every_flipped_byte_is_found_and_the_file_left_as_it_was() {
        let (_dir, path) = saved(&[(0x1000, 1), (0x1004, 2), (0x9_0000, 3)]);
        let good = std::fs::read(&path).expect("read");
        assert!(ScanFile::open(&path).is_ok());
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x10;
            std::fs::write(&path, &bad).expect("write");
            let err = ScanFile::open(&path).expect_err("a flipped byte is found");
            assert!(err.to_string().contains("scan file"), "byte {i}: {err}");
            assert_eq!(std::fs::read(&path).expect("read"), bad);
        }
    }

    #[test]
    fn an_unfinished_writer_leaves_no_file_and_the_old_one_stays() {
        let (dir, path) = saved(&[(0x1000, 1)]);
        let before = std::fs::read(&path).expect("read");
        let w = ScanWriter::create(Some(&path), header(ValueType::U32, true)).expect("create");
        drop(w);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["scan"]);
        assert_eq!(std::fs::read(&path).expect("read"), before);
    }

    #[test]
    fn a_record_at_the_top_of_memory_is_an_error_not_a_panic() {
        let (_dir, path) = saved(&[(0xffff_ffff_ffff_fff0, 1), (0xffff_ffff_ffff_fffc, 2)]);
        let file = ScanFile::open(&path).expect("the checksum is right");
        let err = file.first(10).expect_err("refused");
        assert!(err.to_string().contains("corrupt record"), "{err}");
        // A record claiming a 4 GiB payload is refused before any allocation.
        let mut bytes = std::fs::read(&path).expect("read");
        let at = HEADER_LEN as usize;
        bytes[at..at + 8].copy_from_slice(&0x1_0000u64.to_le_bytes());
        bytes[at + 13..at + 17].copy_from_slice(&u32::MAX.to_le_bytes());
        seal(&mut bytes);
        std::fs::write(&path, &bytes).expect("write");
        let err = ScanFile::open(&path)
            .and_then(|f| f.first(10))
            .expect_err("refused");
        assert!(err.to_string().contains("corrupt record"), "{err}");
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(128))]
            /// Any bytes behind a valid header and checksum load without a
            /// panic: every record is read or refused.
            #[test]
            fn scan_files_from_arbitrary_bytes_never_panic(
                ty in 0u8..12,
                aligned in any::<bool>(),
                body in proptest::collection::vec(any::<u8>(), 0..400),
                raw in proptest::collection::vec(any::<u8>(), 0..120),
            ) {
                let dir = tempfile::tempdir().expect("temp dir");
                let path = dir.path().join("scan");
                // Unsealed bytes: refused, never a panic.
                std::fs::write(&path, &raw).expect("write");
                prop_assert!(ScanFile::open(&path).is_err() || raw.len() >= HEADER_LEN as usize);
                let mut h = header(ValueType::U8, aligned).encode().to_vec();
                h[16] = ty;
                h.extend_from_slice(&body);
                seal(&mut h);
                std::fs::write(&path, &h).expect("write");
                if let Ok(file) = ScanFile::open(&path) {
                    let mut blocks = file.blocks().expect("blocks");
                    let mut n = 0;
                    while let Ok(Some(block)) = blocks.next_block() {
                        for c in &block {
                            prop_assert!(c.addr.checked_add(8).is_some());
                        }
                        n += 1;
                        prop_assert!(n <= body.len());
                    }
                }
            }
        }
    }
}
