//! Reading a scan file's records back: one at a time in file order
//! ([`BlockReader`]), or grouped by block in address order
//! ([`OrderedReader`]), which is how results are printed and narrowed.
//!
//! A record holds either places (a bitmap or offset list, and values) or,
//! for an unknown-value snapshot, whole pages of memory: a 16-bit mask of
//! the 4 KiB pages of its 64 KiB block that were read, and their bytes,
//! stored as nothing (all zero), raw, or LZ4-compressed.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::PathBuf;

use crate::error::Result;
use crate::search::store::{
    BLOCK, Candidate, FLAG_BITMAP, FLAG_PAGES, FLAG_UNIFORM, FLAG_WIDTH, HEADER_LEN, RECORD_HEAD,
    ScanHeader, flags_width, scan_err,
};

/// The unit a snapshot stores: whole pages, so a first narrowing can
/// compare memory page by page before looking at any value.
pub(crate) const SNAP_PAGE: usize = 4096;
/// Pages of a 64 KiB block.
pub(crate) const PAGES_PER_BLOCK: usize = (BLOCK as usize) / SNAP_PAGE;

/// How a page record's bytes are stored.
pub(crate) const PAGES_ZERO: u8 = 0;
pub(crate) const PAGES_RAW: u8 = 1;
pub(crate) const PAGES_LZ4: u8 = 2;

/// The pages of one block taken by a snapshot.
#[derive(Debug)]
pub(crate) struct PageRecord {
    pub base: u64,
    /// Bit `i`: page `i` of the block is present.
    pub mask: u16,
    /// The present pages' bytes, in page order.
    pub data: Vec<u8>,
}

impl PageRecord {
    /// The present pages as (address, bytes).
    pub fn pages(&self) -> impl Iterator<Item = (u64, &[u8])> {
        (0..PAGES_PER_BLOCK)
            .filter(|i| self.mask & (1 << i) != 0)
            .zip(self.data.chunks_exact(SNAP_PAGE))
            .map(|(i, bytes)| (self.base + (i * SNAP_PAGE) as u64, bytes))
    }

    /// Every place of the record (of every width, for an `int` scan) with
    /// the value the snapshot holds, in address order.
    pub fn candidates(&self, h: &ScanHeader) -> Vec<Candidate> {
        let mut out = Vec::with_capacity(h.places_in(self.data.len()) as usize);
        for (addr, bytes) in self.pages() {
            let from = out.len();
            for &ty in h.ty.widths() {
                let (size, step) = (ty.size(), h.step_of(ty.size()) as usize);
                let mut at = 0;
                while at + size <= bytes.len() {
                    out.push(Candidate {
                        addr: addr + at as u64,
                        bits: ty.load(&bytes[at..]),
                        width: size as u8,
                    });
                    at += step;
                }
            }
            out[from..].sort_unstable_by_key(|c| (c.addr, c.width));
        }
        out
    }
}

/// A block's pages ready to be written: encoded on the lane that read them,
/// so compression runs in parallel.
#[derive(Debug)]
pub(crate) struct PageRecordOut {
    pub base: u64,
    pub mask: u16,
    pub encoding: u8,
    pub payload: Vec<u8>,
}

impl PageRecordOut {
    /// Encodes the present pages' bytes as the smallest of all-zero, LZ4 and raw.
    pub fn encode(base: u64, mask: u16, raw: &[u8]) -> PageRecordOut {
        let (encoding, payload) = if raw.iter().all(|b| *b == 0) {
            (PAGES_ZERO, Vec::new())
        } else if !worth_compressing(raw) {
            (PAGES_RAW, raw.to_vec())
        } else {
            let packed = lz4_flex::block::compress(raw);
            if packed.len() < raw.len() {
                (PAGES_LZ4, packed)
            } else {
                (PAGES_RAW, raw.to_vec())
            }
        };
        PageRecordOut {
            base,
            mask,
            encoding,
            payload,
        }
    }
}

/// Whether LZ4 is likely to shrink `raw`: a trial on its first page, so
/// random-looking data costs a sixteenth of a full attempt.
fn worth_compressing(raw: &[u8]) -> bool {
    let trial = &raw[..raw.len().min(SNAP_PAGE)];
    lz4_flex::block::compress(trial).len() < trial.len() * 7 / 8
}

/// One record of a scan file.
#[derive(Debug)]
pub(crate) enum Record {
    Places(Vec<Candidate>),
    Pages(PageRecord),
}

impl Record {
    /// Roughly the bytes it holds, to batch records by.
    pub fn weight(&self) -> usize {
        match self {
            Record::Places(c) => c.len() * std::mem::size_of::<Candidate>(),
            Record::Pages(p) => p.data.len(),
        }
    }

    pub fn into_candidates(self, h: &ScanHeader) -> Vec<Candidate> {
        match self {
            Record::Places(c) => c,
            Record::Pages(p) => p.candidates(h),
        }
    }
}

/// Reads a scan file's records one at a time.
#[derive(Debug)]
pub struct BlockReader {
    pub(crate) input: BufReader<File>,
    pub(crate) header: ScanHeader,
    pub(crate) path: PathBuf,
}

/// A record's head: where it starts, its block, count, flags and payload length.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RecordHead {
    pub base: u64,
    pub count: usize,
    pub flags: u8,
    pub len: usize,
}

impl BlockReader {
    /// The candidates of the next record, or `None` at the end. A snapshot's
    /// pages come back as every place they hold.
    pub fn next_block(&mut self) -> Result<Option<Vec<Candidate>>> {
        let h = self.header;
        Ok(self.next_record()?.map(|r| r.into_candidates(&h)))
    }

    pub(crate) fn next_head(&mut self) -> Result<Option<RecordHead>> {
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
        // A crafted record must not size an allocation or place a value past the top of memory.
        let width = self.header.ty.size();
        if len > self.header.max_payload()
            || base & (BLOCK - 1) != 0
            || base.checked_add(BLOCK - 1 + width as u64).is_none()
        {
            return Err(self.corrupt(base));
        }
        Ok(Some(RecordHead {
            base,
            count,
            flags,
            len,
        }))
    }

    fn corrupt(&self, base: u64) -> crate::Error {
        scan_err(&self.path, format!("corrupt record at block {base:#x}"))
    }

    /// The next record, or `None` at the end.
    pub(crate) fn next_record(&mut self) -> Result<Option<Record>> {
        let Some(head) = self.next_head()? else {
            return Ok(None);
        };
        let mut payload = vec![0u8; head.len];
        self.input
            .read_exact(&mut payload)
            .map_err(|_| scan_err(&self.path, "truncated record"))?;
        self.parse(head, payload).map(Some)
    }

    fn parse(&self, head: RecordHead, payload: Vec<u8>) -> Result<Record> {
        let RecordHead {
            base, count, flags, ..
        } = head;
        let corrupt = || self.corrupt(base);
        let known = FLAG_BITMAP | FLAG_UNIFORM | FLAG_PAGES | FLAG_WIDTH;
        let any_int = self.header.ty.is_any_int();
        // Only an `int` scan's place records name a width.
        if flags & !known != 0 || (flags & FLAG_WIDTH != 0 && (!any_int || flags & FLAG_PAGES != 0))
        {
            return Err(corrupt());
        }
        if flags & FLAG_PAGES != 0 {
            return self.parse_pages(head, &payload);
        }
        let width = if any_int {
            flags_width(flags)
        } else {
            self.header.ty.size()
        };
        let ty = self.header.ty.with_width(width).ok_or_else(corrupt)?;
        let step = self.header.step_of(width);
        let (offsets, values): (Vec<u64>, &[u8]) = if flags & FLAG_BITMAP != 0 {
            let bitmap_len = ((BLOCK / step) as usize).div_ceil(8);
            let bits = payload.get(..bitmap_len).ok_or_else(corrupt)?;
            let mut offs = Vec::with_capacity(count.min(bitmap_len * 8));
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
            let list = payload
                .get(..count.checked_mul(2).ok_or_else(corrupt)?)
                .ok_or_else(corrupt)?;
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
        Ok(Record::Places(
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
                    width: width as u8,
                })
                .collect(),
        ))
    }

    fn parse_pages(&self, head: RecordHead, payload: &[u8]) -> Result<Record> {
        let corrupt = || self.corrupt(head.base);
        if payload.len() < 3 {
            return Err(corrupt());
        }
        let mask = u16::from_le_bytes([payload[0], payload[1]]);
        let (encoding, data) = (payload[2], &payload[3..]);
        let len = mask.count_ones() as usize * SNAP_PAGE;
        let places = self.header.places_in(len);
        if mask == 0 || head.count as u64 != places || !self.header.aligned {
            return Err(corrupt());
        }
        let data = match encoding {
            PAGES_ZERO if data.is_empty() => vec![0u8; len],
            PAGES_RAW if data.len() == len => data.to_vec(),
            PAGES_LZ4 => {
                let mut out = vec![0u8; len];
                match lz4_flex::block::decompress_into(data, &mut out) {
                    Ok(n) if n == len => out,
                    _ => return Err(corrupt()),
                }
            }
            _ => return Err(corrupt()),
        };
        Ok(Record::Pages(PageRecord {
            base: head.base,
            mask,
            data,
        }))
    }
}

/// Reads a scan file's records in address order, every record of one
/// 64 KiB block together. Lanes write records in the order they finish
/// them, so the reader first reads every record's head (a few bytes per
/// block) and sorts them; memory stays in proportion to the records.
#[derive(Debug)]
pub struct OrderedReader {
    reader: BlockReader,
    /// (block base, file offset, head), sorted by base then offset.
    index: Vec<(u64, u64, RecordHead)>,
    next: usize,
}

impl OrderedReader {
    pub(crate) fn new(mut reader: BlockReader) -> Result<OrderedReader> {
        let mut index = Vec::new();
        let mut at = HEADER_LEN;
        while let Some(head) = reader.next_head()? {
            index.push((head.base, at, head));
            at += (RECORD_HEAD + head.len) as u64;
            reader
                .input
                .seek_relative(head.len as i64)
                .map_err(|e| scan_err(&reader.path, e))?;
        }
        index.sort_unstable_by_key(|(base, at, _)| (*base, *at));
        Ok(OrderedReader {
            reader,
            index,
            next: 0,
        })
    }

    /// The records of the next block in address order, or `None` at the end.
    pub(crate) fn next_group(&mut self) -> Result<Option<Vec<Record>>> {
        let Some(&(base, _, _)) = self.index.get(self.next) else {
            return Ok(None);
        };
        let mut group = Vec::new();
        while let Some(&(b, at, head)) = self.index.get(self.next) {
            if b != base {
                break;
            }
            self.next += 1;
            let r = &mut self.reader;
            r.input
                .seek(SeekFrom::Start(at + RECORD_HEAD as u64))
                .map_err(|e| scan_err(&r.path, e))?;
            let mut payload = vec![0u8; head.len];
            r.input
                .read_exact(&mut payload)
                .map_err(|_| scan_err(&r.path, "truncated record"))?;
            group.push(r.parse(head, payload)?);
        }
        Ok(Some(group))
    }

    /// The candidates of the next block, in address order.
    pub fn next_block(&mut self) -> Result<Option<Vec<Candidate>>> {
        let h = self.reader.header;
        let Some(group) = self.next_group()? else {
            return Ok(None);
        };
        let mut all: Vec<Candidate> = group
            .into_iter()
            .flat_map(|r| r.into_candidates(&h))
            .collect();
        all.sort_unstable_by_key(|c| (c.addr, c.width));
        Ok(Some(all))
    }
}
