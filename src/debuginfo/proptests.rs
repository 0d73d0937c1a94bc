//! Properties of the value codec over hand-built types: any bytes decode
//! without a panic, and a bitfield write changes its own bits only.

use std::sync::Arc;

use proptest::prelude::*;

use super::path::{Place, Step, resolve};
use super::types::{Aggregate, BaseKind, Bits, Field, Type, TypeKind};
use super::value::{Value, decode, decode_place, encode};

fn int(name: &str, size: u64, signed: bool) -> Arc<Type> {
    let kind = if signed {
        BaseKind::Signed
    } else {
        BaseKind::Unsigned
    };
    Arc::new(Type::new(name, size, TypeKind::Base(kind)))
}

fn sample_struct() -> Arc<Type> {
    let u32t = int("unsigned int", 4, false);
    let i32t = int("int", 4, true);
    let chr = Arc::new(Type::new("char", 1, TypeKind::Base(BaseKind::SignedChar)));
    let name = Arc::new(Type::new(
        "char[8]",
        8,
        TypeKind::Array {
            elem: chr,
            count: Some(8),
        },
    ));
    let state = Arc::new(Type::new(
        "enum state",
        4,
        TypeKind::Enum {
            signed: false,
            enumerators: vec![("IDLE".into(), 0), ("RUN".into(), 3)],
        },
    ));
    let field = |name: &str, offset, ty: &Arc<Type>, bits| Field {
        name: name.into(),
        offset,
        ty: Arc::clone(ty),
        bits,
    };
    Arc::new(Type::new(
        "struct s",
        20,
        TypeKind::Struct {
            aggregate: Aggregate::Struct,
            fields: vec![
                field("name", 0, &name, None),
                field("state", 8, &state, None),
                field("a", 12, &u32t, Some(Bits { offset: 0, size: 3 })),
                field("b", 12, &i32t, Some(Bits { offset: 3, size: 7 })),
                field(
                    "c",
                    13,
                    &u32t,
                    Some(Bits {
                        offset: 2,
                        size: 20,
                    }),
                ),
            ],
            variants: None,
            incomplete: false,
        },
    ))
}

#[test]
fn struct_fields_decode_by_path() {
    let ty = sample_struct();
    let mut bytes = vec![0u8; 20];
    bytes[..3].copy_from_slice(b"abc");
    bytes[8] = 3;
    // a = 5, b = -2 (7 bits: 0b1111110) at bit 3 of byte 12.
    let word: u16 = 5 | (0b111_1110 << 3);
    bytes[12..14].copy_from_slice(&word.to_le_bytes());
    let v = decode(&ty, &bytes).expect("decode");
    assert_eq!(
        v.to_string(),
        "{name = \"abc\", state = RUN, a = 5, b = -2, c = 0}"
    );
    let b = resolve(&ty, &[Step::Field("b".into())]).expect("b");
    assert_eq!(b.offset, 12);
    assert_eq!(
        decode_place(&b, &bytes[12..]).expect("b"),
        Value::Signed(-2)
    );
    let err = resolve(&ty, &[Step::Field("zz".into())]).expect_err("no such field");
    assert!(err.0.contains("fields: name, state, a, b, c"), "{err}");
    bytes[8] = 7;
    let v = decode(&ty, &bytes).expect("decode");
    assert!(v.to_string().contains("state = 7 (no name)"), "{v}");
}

#[test]
fn enum_encodes_by_name_or_number_and_refuses_others() {
    let ty = sample_struct();
    let p = resolve(&ty, &[Step::Field("state".into())]).expect("state");
    assert_eq!(encode(&p, "RUN", &[]).expect("name"), (8, vec![3, 0, 0, 0]));
    assert_eq!(encode(&p, "7", &[]).expect("number"), (8, vec![7, 0, 0, 0]));
    let err = encode(&p, "WALK", &[]).expect_err("unknown name");
    assert!(err.0.contains("IDLE, RUN"), "{err}");
}

#[test]
fn short_bytes_are_an_error() {
    let ty = sample_struct();
    assert!(decode(&ty, &[0; 19]).is_err());
}

proptest! {
    #[test]
    fn any_bytes_decode_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
        let ty = sample_struct();
        let _ = decode(&ty, &bytes).map(|v| (v.to_string(), v.to_json()));
    }

    #[test]
    fn bitfield_write_keeps_other_bits(
        offset in 0u32..8,
        size in 1u32..=32,
        value in any::<u32>(),
        signed in any::<bool>(),
        around in proptest::collection::vec(any::<u8>(), 8),
    ) {
        let place = Place {
            offset: 0,
            ty: int("int", 4, signed),
            bits: Some(Bits { offset, size }),
        };
        let mask: u64 = ((1u64 << size) - 1) << offset;
        let v = u64::from(value) & ((1u64 << size) - 1);
        let text = if signed && v >> (size - 1) == 1 {
            (v as i64 - (1i64 << size)).to_string()
        } else {
            v.to_string()
        };
        let (at, new) = encode(&place, &text, &around).expect("fits");
        prop_assert_eq!(at, 0);
        let mut merged = around.clone();
        merged[..new.len()].copy_from_slice(&new);
        let old = u64::from_le_bytes(around[..8].try_into().expect("8"));
        let now = u64::from_le_bytes(merged[..8].try_into().expect("8"));
        prop_assert_eq!(old & !mask, now & !mask, "neighbouring bits changed");
        prop_assert_eq!((now & mask) >> offset, v);
        let back = decode_place(&place, &merged).expect("decode");
        prop_assert_eq!(back.to_string(), text);
    }
}
