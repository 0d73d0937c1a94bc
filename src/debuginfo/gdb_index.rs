//! `.gdb_index` (gdb's name index, versions 7 to 9, as `gdb-add-index`
//! writes it): which compilation units define a name, so a lookup parses
//! those units instead of scanning every one. The format is gdb's manual's
//! "Index Section Format"; every offset and count is checked against the
//! section before it is used.

/// What a name's entry says it is (bits 28..30 of a CU vector entry).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// Version 6 and older entries, or an unspecified kind.
    Unknown,
    Type,
    Variable,
    Function,
    Other,
}

/// A parsed `.gdb_index`, borrowing the section's bytes.
#[derive(Debug)]
pub(super) struct GdbIndex<'a> {
    pub version: u32,
    /// Each compilation unit's `.debug_info` offset.
    cus: Vec<u64>,
    /// The open-addressed hash table: (name, CU vector) offsets into the pool.
    symbols: &'a [u8],
    pool: &'a [u8],
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    let bytes = data.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(bytes.try_into().ok()?))
}

fn u64_at(data: &[u8], at: usize) -> Option<u64> {
    let bytes = data.get(at..at.checked_add(8)?)?;
    Some(u64::from_le_bytes(bytes.try_into().ok()?))
}

/// gdb's `mapped_index_string_hash`, case-folded from version 5 on.
fn hash(version: u32, name: &[u8]) -> u32 {
    name.iter().fold(0u32, |r, &c| {
        let c = if version >= 5 {
            c.to_ascii_lowercase()
        } else {
            c
        };
        r.wrapping_mul(67)
            .wrapping_add(u32::from(c))
            .wrapping_sub(113)
    })
}

impl<'a> GdbIndex<'a> {
    /// Parses the section, or says why it cannot be used.
    pub fn parse(data: &'a [u8]) -> Result<GdbIndex<'a>, String> {
        let field = |i: usize| u32_at(data, i * 4).ok_or("truncated header");
        let version = field(0)?;
        if !(7..=9).contains(&version) {
            return Err(format!("version {version} (pvtui reads 7 to 9)"));
        }
        let offset = |i: usize| -> Result<usize, String> {
            let o = usize::try_from(field(i)?).map_err(|_| "offset out of range")?;
            if o > data.len() {
                return Err(format!("offset {o:#x} past the section's end"));
            }
            Ok(o)
        };
        let (cu_list, tu_list, symbols_at) = (offset(1)?, offset(2)?, offset(4)?);
        // Version 9 adds the shortcut table before the constant pool.
        let pool_at = offset(if version >= 9 { 6 } else { 5 })?;
        if !(cu_list <= tu_list && symbols_at <= pool_at) {
            return Err("tables out of order".into());
        }
        let cu_bytes = &data[cu_list..tu_list];
        if cu_bytes.len() % 16 != 0 {
            return Err("CU list is not a whole number of entries".into());
        }
        let cus = cu_bytes
            .chunks_exact(16)
            .filter_map(|c| u64_at(c, 0))
            .collect();
        let symbols = &data[symbols_at..pool_at];
        let slots = symbols.len() / 8;
        if symbols.len() % 8 != 0 || (slots != 0 && !slots.is_power_of_two()) {
            return Err("symbol table size is not a power of two".into());
        }
        Ok(GdbIndex {
            version,
            cus,
            symbols,
            pool: &data[pool_at..],
        })
    }

    /// The `.debug_info` offsets of the units that define `name` as `want`
    /// (or whose entries do not say), without repeats; `None` when the
    /// index does not know the name.
    pub fn units(&self, name: &str, want: Kind) -> Option<Vec<usize>> {
        let vector = self.find(name.as_bytes())?;
        let count = usize::try_from(u32_at(self.pool, vector)?).ok()?;
        let mut units = Vec::new();
        for i in 0..count.min(self.pool.len() / 4) {
            let entry = u32_at(self.pool, vector.checked_add(4 + i * 4)?)?;
            let kind = match (entry >> 28) & 7 {
                1 => Kind::Type,
                2 => Kind::Variable,
                3 => Kind::Function,
                4 => Kind::Other,
                _ => Kind::Unknown,
            };
            if kind != want && kind != Kind::Unknown {
                continue;
            }
            // Units past the CU list are type units: not in `.debug_info`.
            let Some(off) = self.cus.get((entry & 0x00ff_ffff) as usize) else {
                continue;
            };
            let Ok(off) = usize::try_from(*off) else {
                continue;
            };
            if !units.contains(&off) {
                units.push(off);
            }
        }
        Some(units)
    }

    /// The CU vector's offset in the pool for `name`.
    fn find(&self, name: &[u8]) -> Option<usize> {
        let slots = self.symbols.len() / 8;
        if slots == 0 {
            return None;
        }
        let mask = slots - 1;
        let h = hash(self.version, name) as usize;
        let step = (h.wrapping_mul(17) & mask) | 1;
        let mut slot = h & mask;
        // An open-addressed table probes at most every slot once.
        for _ in 0..slots {
            let name_at = u32_at(self.symbols, slot * 8)? as usize;
            let vector_at = u32_at(self.symbols, slot * 8 + 4)? as usize;
            if name_at == 0 && vector_at == 0 {
                return None;
            }
            let stored = self.pool.get(name_at..)?;
            let stored = &stored[..memchr::memchr(0, stored)?];
            if stored == name {
                return Some(vector_at);
            }
            slot = (slot + step) & mask;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A version 8 index with two CUs (at 0 and 0x40) and the given
    /// symbols: (name, [(cu index, kind bits)]).
    fn build(symbols: &[(&str, &[(u32, u32)])]) -> Vec<u8> {
        let slots = symbols.len().next_power_of_two().max(4) * 2;
        let mut pool = Vec::new();
        let mut table = vec![(0u32, 0u32); slots];
        for (name, cus) in symbols {
            let vector = pool.len() as u32;
            pool.extend((cus.len() as u32).to_le_bytes());
            for (cu, kind) in *cus {
                pool.extend((cu | kind << 28).to_le_bytes());
            }
            let name_at = pool.len() as u32;
            pool.extend(name.as_bytes());
            pool.push(0);
            let mask = slots - 1;
            let h = hash(8, name.as_bytes()) as usize;
            let step = (h.wrapping_mul(17) & mask) | 1;
            let mut slot = h & mask;
            while table[slot] != (0, 0) {
                slot = (slot + step) & mask;
            }
            table[slot] = (name_at, vector);
        }
        let cu_list = 24u32;
        let tu_list = cu_list + 32;
        let symbols_at = tu_list;
        let pool_at = symbols_at + (slots * 8) as u32;
        let mut out = Vec::new();
        for v in [8, cu_list, tu_list, tu_list, symbols_at, pool_at] {
            out.extend(u32::to_le_bytes(v));
        }
        for (off, len) in [(0u64, 0x40u64), (0x40, 0x40)] {
            out.extend(off.to_le_bytes());
            out.extend(len.to_le_bytes());
        }
        for (n, v) in table {
            out.extend(n.to_le_bytes());
            out.extend(v.to_le_bytes());
        }
        out.extend(pool);
        out
    }

    #[test]
    fn finds_the_units_of_a_name_by_kind() {
        let bytes = build(&[
            ("counter", &[(1, 2)]),
            ("player", &[(0, 1), (1, 1)]),
            ("main", &[(0, 3)]),
        ]);
        let index = GdbIndex::parse(&bytes).expect("parses");
        assert_eq!(index.units("counter", Kind::Variable), Some(vec![0x40]));
        assert_eq!(index.units("player", Kind::Type), Some(vec![0, 0x40]));
        assert_eq!(index.units("main", Kind::Variable), Some(vec![]));
        assert_eq!(index.units("absent", Kind::Variable), None);
    }

    #[test]
    fn refuses_or_survives_malformed_sections() {
        assert!(GdbIndex::parse(&[]).is_err());
        assert!(GdbIndex::parse(&[6, 0, 0, 0]).is_err());
        let good = build(&[("counter", &[(1, 2)]), ("other", &[(7, 2)])]);
        let index = GdbIndex::parse(&good).expect("parses");
        // A CU index past the list is skipped, not followed.
        assert_eq!(index.units("other", Kind::Variable), Some(vec![]));
        // Every cut and every flipped byte parses to an error or answers
        // without panicking.
        for cut in 0..good.len() {
            if let Ok(index) = GdbIndex::parse(&good[..cut]) {
                let _ = index.units("counter", Kind::Variable);
            }
        }
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0xff;
            if let Ok(index) = GdbIndex::parse(&bad) {
                let _ = index.units("counter", Kind::Variable);
                let _ = index.units("other", Kind::Type);
            }
        }
    }
}
