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
//! tolerance, count, scans), then records of `base u64, count u32, flags u8,
//! payload_len u32, payload`.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};
use crate::search::value::ValueType;

const MAGIC: &[u8; 8] = b"PVTUISCN";
const VERSION: u32 = 1;
const HEADER_LEN: u64 = 8 + 4 + 4 + 1 + 1 + 8 + 8 + 4;
const COUNT_AT: u64 = 8 + 4 + 4 + 1 + 1 + 8;
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
}

impl ScanHeader {
    fn step(&self) -> u64 {
        if self.aligned {
            self.ty.size() as u64
        } else {
            1
        }
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
pub(crate) fn temp_path() -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    std::env::temp_dir().join(format!("pvtui-scan-{}-{nanos}-{n}", std::process::id()))
}

/// Writes a scan file record by record.
pub(crate) struct ScanWriter {
    out: BufWriter<File>,
    path: PathBuf,
    header: ScanHeader,
    temporary: bool,
}

impl ScanWriter {
    /// Creates `path`, or a temporary file removed when its [`ScanFile`] drops.
    pub fn create(path: Option<&Path>, mut header: ScanHeader) -> Result<ScanWriter> {
        let temporary = path.is_none();
        let path = path.map(Path::to_path_buf).unwrap_or_else(temp_path);
        let file = File::create(&path).map_err(|e| scan_err(&path, e))?;
        header.count = 0;
        let mut w = ScanWriter {
            out: BufWriter::with_capacity(1 << 16, file),
            path,
            header,
            temporary,
        };
        let h = w.header;
        let mut head = Vec::with_capacity(HEADER_LEN as usize);
        head.extend_from_slice(MAGIC);
        head.extend_from_slice(&VERSION.to_le_bytes());
        head.extend_from_slice(&h.pid.to_le_bytes());
        head.push(h.ty.code());
        head.push(u8::from(h.aligned));
        head.extend_from_slice(&h.tolerance.to_le_bytes());
        head.extend_from_slice(&0u64.to_le_bytes());
        head.extend_from_slice(&h.scans.to_le_bytes());
        w.write(&head)?;
        Ok(w)
    }

    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.out
            .write_all(bytes)
            .map_err(|e| scan_err(&self.path, e))
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

    /// Writes the final count and closes the file.
    pub fn finish(mut self) -> Result<ScanFile> {
        self.out.flush().map_err(|e| scan_err(&self.path, e))?;
        let mut file = self
            .out
            .into_inner()
            .map_err(|e| scan_err(&self.path, e.error()))?;
        file.seek(SeekFrom::Start(COUNT_AT))
            .and_then(|_| file.write_all(&self.header.count.to_le_bytes()))
            .map_err(|e| scan_err(&self.path, e))?;
        Ok(ScanFile {
            path: self.path,
            header: self.header,
            temporary: self.temporary,
        })
    }
}

/// A finished scan: its header and the file holding its candidates.
#[derive(Debug)]
pub struct ScanFile {
    path: PathBuf,
    header: ScanHeader,
    temporary: bool,
}

impl ScanFile {
    /// Opens a file written by `pvtui scan --save`.
    pub fn open(path: &Path) -> Result<ScanFile> {
        let mut f = File::open(path).map_err(|e| scan_err(path, e))?;
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
                format!("version {} is not supported", u32_at(8)),
            ));
        }
        let ty =
            ValueType::from_code(head[16]).ok_or_else(|| scan_err(path, "unknown value type"))?;
        Ok(ScanFile {
            path: path.to_path_buf(),
            header: ScanHeader {
                pid: u32_at(12) as i32,
                ty,
                aligned: head[17] != 0,
                tolerance: f64::from_bits(u64_at(18)),
                count: u64_at(26),
                scans: u32_at(34),
            },
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
            header: self.header,
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
        let mut head = [0u8; 17];
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
        let mut payload = vec![0u8; len];
        self.input
            .read_exact(&mut payload)
            .map_err(|_| scan_err(&self.path, "truncated record"))?;
        let width = self.header.ty.size();
        let step = self.header.step();
        let corrupt = || scan_err(&self.path, format!("corrupt record at block {base:#x}"));
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
}
