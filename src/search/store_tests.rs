//! Tests of the scan file format.
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
        .map(|&(addr, bits)| Candidate {
            addr,
            bits,
            width: 4,
        })
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
            bits: u64::MAX - 4999,
            width: 8,
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

#[test]
fn record_widths_round_trip_through_the_flags() {
    for width in [1usize, 2, 4, 8] {
        let flags = width_flags(width);
        assert_eq!(flags & !FLAG_WIDTH, 0, "{width}");
        assert_eq!(flags_width(flags | FLAG_BITMAP | FLAG_UNIFORM), width);
    }
    // The other flags are left alone, and a width of 1 is no bits at all:
    // a record of an older file reads as it always did.
    assert_eq!(width_flags(1), 0);
    assert_eq!(flags_width(FLAG_BITMAP | FLAG_UNIFORM | FLAG_PAGES), 1);
}

#[test]
fn an_int_scan_keeps_each_places_width() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("scan");
    let mut w = ScanWriter::create(Some(&path), header(ValueType::INT, true)).expect("create");
    let mut blocks = Blocks::default();
    // Dense bytes (a bitmap) beside sparse wider places (lists), in two blocks.
    let mut places: Vec<(u64, usize, u64)> = (0..4096).map(|i| (0x20000 + i, 1, 9)).collect();
    places.extend([(0x20000, 2, 0x909), (0x20000, 8, u64::MAX), (0x3fff8, 4, 7)]);
    places.extend([(0x40002, 2, 300), (0x40004, 4, 70000)]);
    for &(addr, width, bits) in &places {
        if let Some(done) = blocks.push(addr, width, bits) {
            w.write_block(&done).expect("write");
        }
    }
    for done in blocks.take() {
        w.write_block(&done).expect("write");
    }
    // A place of no width an `int` scan has is refused, not written.
    let mut odd = BlockBuf::default();
    odd.push(0x50000, 1);
    assert!(w.write_block(&odd).is_err());
    w.finish().expect("finish");
    let file = ScanFile::open(&path).expect("open");
    assert_eq!(file.header().ty, ValueType::INT);
    let back: Vec<(u64, usize, u64)> = file
        .first(usize::MAX)
        .expect("read")
        .iter()
        .map(|c| (c.addr, usize::from(c.width), c.bits))
        .collect();
    places.sort_unstable_by_key(|p| (p.0, p.1));
    assert_eq!(back, places);
    // The byte holding the width in the records of an older file's type is refused.
    let mut bytes = std::fs::read(&path).expect("read");
    bytes[16] = ValueType::U32.code();
    seal(&mut bytes);
    std::fs::write(&path, &bytes).expect("write");
    let err = ScanFile::open(&path)
        .and_then(|f| f.first(usize::MAX))
        .expect_err("width bits in a u32 scan");
    assert!(err.to_string().contains("corrupt record"), "{err}");
    // A version 3 file cannot hold an `int` scan.
    bytes[16] = ValueType::INT.code();
    bytes[8..12].copy_from_slice(&3u32.to_le_bytes());
    seal(&mut bytes);
    std::fs::write(&path, &bytes).expect("write");
    let err = ScanFile::open(&path).expect_err("int in version 3");
    assert!(err.to_string().contains("unknown value type"), "{err}");
}

#[test]
fn version_3_files_still_read() {
    let (_dir, path) = saved(&[(0x1000, 1), (0x1004, 2)]);
    let mut bytes = std::fs::read(&path).expect("read");
    bytes[8..12].copy_from_slice(&3u32.to_le_bytes());
    seal(&mut bytes);
    std::fs::write(&path, &bytes).expect("write");
    let file = ScanFile::open(&path).expect("a version 3 file");
    assert_eq!(file.first(10).expect("read").len(), 2);
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
            ty in 0u8..13,
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
