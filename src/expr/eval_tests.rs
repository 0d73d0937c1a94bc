//! Unit tests of watch evaluation: address steps (`node`) and polls on fake memory.
use super::*;
use crate::expr::node::{Bound, Indexed, Int, apply, int_step};

fn c(v: u64) -> Node {
    Node::Const(v)
}

#[test]
fn steps_collect_every_pointer_a_level_needs() {
    // *(*a + *b) + 8: a and b are read in the same round.
    let node = Node::Binary(
        BinOp::Add,
        Box::new(Node::Deref(Box::new(Node::Binary(
            BinOp::Add,
            Box::new(Node::Deref(Box::new(c(0x100)))),
            Box::new(Node::Deref(Box::new(c(0x200)))),
        )))),
        Box::new(c(8)),
    );
    let mut pointers = PointerReads::new();
    let mut need = Vec::new();
    assert!(matches!(step(&node, &pointers, &mut need), Step::Waiting));
    assert_eq!(need, [(0x100, 8), (0x200, 8)]);
    pointers.insert((0x100, 8), Ok(0x1000));
    pointers.insert((0x200, 8), Ok(0x10));
    need.clear();
    assert!(matches!(step(&node, &pointers, &mut need), Step::Waiting));
    assert_eq!(need, [(0x1010, 8)]);
    pointers.insert((0x1010, 8), Ok(0x5000));
    need.clear();
    assert!(matches!(
        step(&node, &pointers, &mut need),
        Step::Done(0x5008)
    ));
    assert_eq!(depth(&node), 2);
}

#[test]
fn watch_sets_and_symbol_tables_can_move_to_a_poller_thread() {
    fn send_and_sync<T: Send + Sync>() {}
    send_and_sync::<WatchSet>();
    send_and_sync::<crate::symbols::SymbolTable>();
}

#[test]
fn a_failed_pointer_fails_the_chain() {
    let node = Node::Deref(Box::new(Node::Deref(Box::new(c(0x100)))));
    let mut pointers = PointerReads::new();
    pointers.insert((0x100, 8), Err(Unread::Unmapped));
    let mut need = Vec::new();
    assert!(matches!(
        step(&node, &pointers, &mut need),
        Step::Failed(0x100, Unread::Unmapped)
    ));
    assert!(need.is_empty());
}

#[test]
fn address_arithmetic_that_overflows_is_an_error() {
    let node = Node::Binary(
        BinOp::Add,
        Box::new(Node::Deref(Box::new(c(0x100)))),
        Box::new(c(1)),
    );
    let mut pointers = PointerReads::new();
    pointers.insert((0x100, 8), Ok(u64::MAX));
    let mut need = Vec::new();
    assert!(matches!(
        step(&node, &pointers, &mut need),
        Step::Overflow(_)
    ));
    assert_eq!(apply(BinOp::Sub, 1, 2), None);
    assert_eq!(apply(BinOp::Mul, 1 << 32, 1 << 32), None);
    assert_eq!(apply(BinOp::Add, u64::MAX - 1, 1), Some(u64::MAX));
    // A pointer whose 8 bytes would end past the top is not read at all.
    let node = Node::Deref(Box::new(c(u64::MAX - 3)));
    let mut need = Vec::new();
    let got = step(&node, &PointerReads::new(), &mut need);
    assert!(matches!(got, Step::Overflow(_)));
    assert!(need.is_empty());
}

/// `base[row]` over 4-byte elements, `row` a 2-byte signed variable at 0x300.
fn indexed(count: Option<u64>) -> Node {
    Node::Index(Box::new(Indexed {
        base: c(0x1000),
        index: Int::Binary(
            BinOp::Sub,
            Box::new(Int::Load {
                at: c(0x300),
                size: 2,
                signed: true,
                bits: None,
            }),
            Box::new(Int::Const(1)),
        ),
        scale: 4,
        bound: match count {
            Some(n) => Bound::Array {
                count: Some(n),
                name: "int[3]".into(),
            },
            None => Bound::Pointer,
        },
    }))
}

#[test]
fn an_index_reads_its_variable_at_its_width_then_the_element() {
    let node = indexed(Some(3));
    let mut pointers = PointerReads::new();
    let mut need = Vec::new();
    assert!(matches!(step(&node, &pointers, &mut need), Step::Waiting));
    assert_eq!(need, [(0x300, 2)], "two bytes, not a pointer's eight");
    assert_eq!(depth(&node), 1);
    pointers.insert((0x300, 2), Ok(3));
    assert!(matches!(
        step(&node, &pointers, &mut need),
        Step::Done(0x1008)
    ));
}

#[test]
fn an_index_out_of_its_array_is_an_error_and_a_pointer_takes_any() {
    let bounded = indexed(Some(3));
    let pointer = indexed(None);
    let mut need = Vec::new();
    let at = |row: u64| {
        let mut pointers = PointerReads::new();
        pointers.insert((0x300, 2), Ok(row));
        pointers
    };
    // row = 4: element 3 of 3.
    let Step::Overflow(why) = step(&bounded, &at(4), &mut need) else {
        panic!("index 3 of 3 read");
    };
    assert_eq!(why, "index 3 is out of bounds for int[3] (3 elements)");
    // row = 0xffff: -1 as an i16, so element -2.
    let Step::Overflow(why) = step(&bounded, &at(0xffff), &mut need) else {
        panic!("a negative index read");
    };
    assert!(why.contains("index -2 is negative"), "{why}");
    assert!(matches!(
        step(&pointer, &at(0xffff), &mut need),
        Step::Done(0xff8)
    ));
    // Below address zero is no address.
    let far = {
        let mut p = PointerReads::new();
        p.insert((0x300, 2), Ok(0x8000));
        p
    };
    assert!(matches!(step(&pointer, &far, &mut need), Step::Overflow(_)));
    assert!(need.is_empty());
}

#[test]
fn a_bitfield_index_takes_only_its_bits() {
    // 5 bits at bit 3 of two bytes: 0b1_0110 there, ones around it.
    let raw = 0xff07 | (0b10110 << 3);
    let index = |signed| {
        let int = Int::Load {
            at: c(0x300),
            size: 2,
            signed,
            bits: Some((3, 5)),
        };
        let mut pointers = PointerReads::new();
        pointers.insert((0x300, 2), Ok(raw));
        match int_step(&int, &pointers, &mut Vec::new()) {
            Step::Done(v) => v,
            _ => panic!("not read"),
        }
    };
    assert_eq!(index(false), 0b10110);
    assert_eq!(index(true), 0b10110 - 32);
}

#[test]
fn an_unreadable_index_fails_the_watch() {
    let node = indexed(None);
    let mut pointers = PointerReads::new();
    pointers.insert((0x300, 2), Err(Unread::Unmapped));
    let mut need = Vec::new();
    assert!(matches!(
        step(&node, &pointers, &mut need),
        Step::Failed(0x300, Unread::Unmapped)
    ));
}

mod on_fake_memory {
    use super::super::*;
    use crate::expr::Value;
    use crate::expr::parse_watch;
    use crate::process::fake::FakeMemory;
    use crate::symbols::SymbolTable;

    fn maps() -> Maps {
        Maps::parse(
            "1000-4000 rw-p 00000000 00:00 0\n\
             5000-6000 r--p 00000000 00:00 0\n",
            "test",
        )
        .expect("maps")
    }

    fn no_symbols(maps: &Maps) -> SymbolTable {
        SymbolTable::with_opener(
            std::sync::Arc::new(|rel: &str| {
                Err(crate::Error::Usage(format!("no /proc/PID/{rel} here")))
            }),
            maps,
        )
    }

    /// root at 0x1000 -> node at 0x2000; node+16 -> leaf at 0x3000; leaf+8 holds -5.
    fn chain() -> FakeMemory {
        let fake = FakeMemory::new();
        fake.map(0x1000, vec![0; 0x3000]);
        fake.put_u64(0x1000, 0x2000);
        fake.put_u64(0x2010, 0x3000);
        fake.put_u64(0x3008, (-5i64) as u64);
        fake
    }

    fn poll(set: &mut WatchSet, fake: &mut FakeMemory) -> Vec<WatchReading> {
        let maps = maps();
        set.poll(fake, &maps, &no_symbols(&maps), ReadMode::NoWait)
            .expect("poll")
    }

    #[test]
    fn a_two_level_chain_is_followed_one_read_per_level() {
        let mut fake = chain();
        let mut set = WatchSet::new();
        set.add(parse_watch("*(*0x1000+16)+8:i64").expect("parses"));
        let reading = poll(&mut set, &mut fake).remove(0);
        assert_eq!(reading.address, Some(0x3008));
        assert_eq!(reading.value, Some(Value::Signed(-5)));
        assert_eq!(reading.status, Status::Ok);
        // Two pointer levels and the value: three ranges in three calls.
        assert_eq!(fake.calls(), 3);
    }

    #[test]
    fn a_moved_pointer_is_followed_and_a_new_value_is_changed() {
        let mut fake = chain();
        let mut set = WatchSet::new();
        set.add(parse_watch("*(*0x1000+16)+8:i64").expect("parses"));
        poll(&mut set, &mut fake);
        fake.put_u64(0x3008, 7);
        let reading = poll(&mut set, &mut fake).remove(0);
        assert_eq!(
            (reading.value, reading.status),
            (Some(Value::Signed(7)), Status::Changed)
        );
        fake.put_u64(0x2010, 0x3100);
        fake.put_u64(0x3108, 9);
        let reading = poll(&mut set, &mut fake).remove(0);
        assert_eq!(reading.address, Some(0x3108));
        assert_eq!(reading.value, Some(Value::Signed(9)));
    }

    #[test]
    fn a_pointer_into_unmapped_memory_fails_the_chain_not_the_others() {
        let mut fake = chain();
        fake.put_u64(0x1000, 0x9000);
        let mut set = WatchSet::new();
        let broken = set.add(parse_watch("*(*0x1000+16):u32").expect("parses"));
        let fine = set.add(parse_watch("*0x2010+8:i64").expect("parses"));
        let readings = poll(&mut set, &mut fake);
        assert_eq!(readings[0].id, broken);
        assert_eq!(readings[0].status, Status::Unmapped);
        assert_eq!(readings[0].address, None);
        assert_eq!(readings[1].id, fine);
        assert_eq!(readings[1].value, Some(Value::Signed(-5)));
    }

    #[test]
    fn a_faulting_pointer_is_an_error_with_its_address() {
        let mut fake = chain();
        fake.fault_page(0x2010);
        let mut set = WatchSet::new();
        set.add(parse_watch("*(*0x1000+16)+8:i64").expect("parses"));
        let reading = poll(&mut set, &mut fake).remove(0);
        assert_eq!(
            reading.status,
            Status::Error("pointer at 0x2010: fault".into())
        );
    }

    #[test]
    fn watches_keep_the_callers_ids_and_order() {
        let mut fake = chain();
        let mut set = WatchSet::new();
        set.insert(WatchId(40), parse_watch("0x1000:u64").expect("parses"));
        set.insert(WatchId(7), parse_watch("0x2010:u64").expect("parses"));
        set.insert(WatchId(40), parse_watch("0x3008:i64").expect("parses"));
        let readings = poll(&mut set, &mut fake);
        let ids: Vec<WatchId> = readings.iter().map(|r| r.id).collect();
        assert_eq!(
            ids,
            [WatchId(40), WatchId(7)],
            "a replaced watch keeps its place"
        );
        assert_eq!(readings[0].value, Some(Value::Signed(-5)));
        assert_eq!(set.add(parse_watch("0x1000").expect("parses")), WatchId(41));
        assert!(set.remove(WatchId(40)).is_some());
        assert_eq!(set.len(), 2);
    }
}
