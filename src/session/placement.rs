//! Where an address lies in the object behind its mapping, and how one
//! watch's values compare across processes that map the same object.
//!
//! Two processes map a shared object each at its own address; the same
//! expression (`[ring]+0x40`) may land on the same bytes of it, or not:
//! one process may hold a private copy-on-write mapping of the object, or
//! map it from another file offset. [`Spread`] says which.

use crate::expr::Value;
use crate::process::Region;

/// The object behind the mapping an address lies in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placement {
    /// The mapping's path as maps shows it (escape before printing); empty
    /// for shared anonymous memory.
    pub object: String,
    /// `MAP_SHARED`; a private mapping holds its own copy of pages written.
    pub shared: bool,
    /// The object's offset at the address.
    pub offset: u64,
}

impl Placement {
    /// The placement of `addr` in `region`, when the region maps an object
    /// (a file, `/dev/shm`, SysV, memfd, or shared anonymous memory).
    pub fn of(region: &Region, addr: u64) -> Option<Placement> {
        let backed = region.inode != 0 || region.perms.shared;
        if !backed || !region.contains(addr) {
            return None;
        }
        Some(Placement {
            object: region.path.clone(),
            shared: region.perms.shared,
            offset: region.offset.checked_add(addr - region.start)?,
        })
    }
}

/// How one watch read in several processes: whether the values differ and
/// the reasons found for it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Spread {
    /// The processes that read a value did not all read the same one.
    pub differs: bool,
    /// Processes whose mapping is private while another's is shared: they
    /// see their own copy of any page they wrote.
    pub private: Vec<i32>,
    /// The processes do not all land on the same offset of the object.
    pub offsets_differ: bool,
}

impl Spread {
    /// Compares one watch's readings: `(pid, value, placement)` per process.
    pub fn of(readings: &[(i32, Option<&Value>, Option<&Placement>)]) -> Spread {
        let mut values = readings.iter().filter_map(|(_, v, _)| *v);
        let differs = match values.next() {
            Some(first) => values.any(|v| v != first),
            None => false,
        };
        let placed: Vec<(i32, &Placement)> = readings
            .iter()
            .filter_map(|(pid, _, p)| Some((*pid, (*p)?)))
            .collect();
        let any_shared = placed.iter().any(|(_, p)| p.shared);
        let private = if any_shared {
            placed
                .iter()
                .filter(|(_, p)| !p.shared)
                .map(|(pid, _)| *pid)
                .collect()
        } else {
            Vec::new()
        };
        let offsets_differ = placed.windows(2).any(|w| w[0].1.offset != w[1].1.offset);
        Spread {
            differs,
            private,
            offsets_differ,
        }
    }

    /// Why the values differ, in words; None when they do not, or no reason
    /// was found (the process wrote its own copy of private memory).
    pub fn reason(&self) -> Option<String> {
        if !self.differs {
            return None;
        }
        let mut reasons = Vec::new();
        if !self.private.is_empty() {
            let pids: Vec<String> = self.private.iter().map(i32::to_string).collect();
            reasons.push(format!("private copy in {}", pids.join(", ")));
        }
        if self.offsets_differ {
            reasons.push("mapped at different offsets of the object".to_string());
        }
        (!reasons.is_empty()).then(|| reasons.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placed(offset: u64, shared: bool) -> Placement {
        Placement {
            object: "/dev/shm/ring".into(),
            shared,
            offset,
        }
    }

    #[test]
    fn equal_values_on_the_same_offset_do_not_differ() {
        let (a, b) = (Value::Unsigned(7), Value::Unsigned(7));
        let (pa, pb) = (placed(0x40, true), placed(0x40, true));
        let spread = Spread::of(&[(1, Some(&a), Some(&pa)), (2, Some(&b), Some(&pb))]);
        assert_eq!(spread, Spread::default());
        assert_eq!(spread.reason(), None);
    }

    #[test]
    fn a_private_copy_is_named() {
        let (a, b) = (Value::Unsigned(7), Value::Unsigned(8));
        let (pa, pb) = (placed(0x40, true), placed(0x40, false));
        let spread = Spread::of(&[(1, Some(&a), Some(&pa)), (2, Some(&b), Some(&pb))]);
        assert!(spread.differs);
        assert_eq!(spread.private, vec![2]);
        assert!(!spread.offsets_differ);
        assert_eq!(spread.reason().as_deref(), Some("private copy in 2"));
    }

    #[test]
    fn different_offsets_are_named() {
        let (a, b) = (Value::Bytes(vec![b'A']), Value::Bytes(vec![b'B']));
        let (pa, pb) = (placed(0, true), placed(0x1000, true));
        let spread = Spread::of(&[(1, Some(&a), Some(&pa)), (2, Some(&b), Some(&pb))]);
        assert!(spread.differs && spread.offsets_differ);
        assert_eq!(
            spread.reason().as_deref(),
            Some("mapped at different offsets of the object")
        );
    }

    #[test]
    fn unread_values_are_not_compared() {
        let a = Value::Unsigned(1);
        let spread = Spread::of(&[(1, Some(&a), None), (2, None, None)]);
        assert!(!spread.differs);
    }

    #[test]
    fn anonymous_private_memory_has_no_placement() {
        let region = Region {
            start: 0x1000,
            end: 0x2000,
            perms: crate::process::Perms {
                read: true,
                write: true,
                exec: false,
                shared: false,
            },
            offset: 0,
            dev: "00:00".into(),
            inode: 0,
            path: "[heap]".into(),
            deleted: false,
        };
        assert_eq!(Placement::of(&region, 0x1800), None);
        let shm = Region {
            inode: 42,
            offset: 0x3000,
            path: "/dev/shm/ring".into(),
            ..region
        };
        assert_eq!(
            Placement::of(&shm, 0x1800),
            Some(Placement {
                object: "/dev/shm/ring".into(),
                shared: false,
                offset: 0x3800
            })
        );
    }
}
