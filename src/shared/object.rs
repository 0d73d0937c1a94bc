//! What object a mapping shows: a file, a SysV segment, a memfd or a shared
//! anonymous region, told apart by the path and inode `/proc/PID/maps` gives.

use std::fmt;

use serde::Serialize;

use crate::process::Region;

/// The identity of the object behind a mapping: two mappings with equal keys
/// show the same bytes (or, for a private mapping, started from them).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ObjectKey {
    /// A file, including a `/dev/shm` object, by device and inode.
    File { dev: String, inode: u64 },
    /// A System V segment (`/SYSV<key>`): the maps inode is its shmid.
    Sysv { key: u32, shmid: u64 },
    /// A `memfd_create` file (`/memfd:NAME`), by device and inode.
    Memfd { dev: String, inode: u64 },
    /// A `MAP_SHARED | MAP_ANONYMOUS` region, shared with children over fork:
    /// the kernel backs it with a shmem file it names `/dev/zero (deleted)`.
    SharedAnon { dev: String, inode: u64 },
}

impl ObjectKey {
    /// The object behind `region`, or `None` for anonymous private memory and
    /// kernel pseudo-regions (`[heap]`, `[vdso]`).
    pub fn of(region: &Region) -> Option<ObjectKey> {
        if region.inode == 0 || !region.path.starts_with('/') {
            return None;
        }
        let (dev, inode) = (region.dev.clone(), region.inode);
        if let Some(hex) = region.path.strip_prefix("/SYSV")
            && let Ok(key) = u32::from_str_radix(hex, 16)
        {
            return Some(ObjectKey::Sysv { key, shmid: inode });
        }
        if region.path.starts_with("/memfd:") && region.deleted {
            return Some(ObjectKey::Memfd { dev, inode });
        }
        if region.path == "/dev/zero" && region.deleted && region.perms.shared {
            return Some(ObjectKey::SharedAnon { dev, inode });
        }
        Some(ObjectKey::File { dev, inode })
    }

    /// Whether the object lives only in memory (shmem): its pages cannot be
    /// read from disk, and a mapping of it is shared memory by intent.
    pub fn is_memory(&self, path: &str) -> bool {
        match self {
            ObjectKey::File { .. } => path.starts_with("/dev/shm/"),
            _ => true,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            ObjectKey::File { .. } => "file",
            ObjectKey::Sysv { .. } => "sysv",
            ObjectKey::Memfd { .. } => "memfd",
            ObjectKey::SharedAnon { .. } => "shared-anon",
        }
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ObjectKey::File { dev, inode } => write!(f, "file dev {dev} inode {inode}"),
            ObjectKey::Sysv { key, shmid } => write!(f, "sysv key {key:#010x} shmid {shmid}"),
            ObjectKey::Memfd { dev, inode } => write!(f, "memfd dev {dev} inode {inode}"),
            ObjectKey::SharedAnon { dev, inode } => {
                write!(f, "shared anonymous dev {dev} inode {inode}")
            }
        }
    }
}

/// One segment of `/proc/sysvipc/shm`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SysvSegment {
    pub key: u32,
    pub shmid: u64,
    pub size: u64,
    /// Resident bytes, as the kernel counts them for the segment.
    pub rss: u64,
}

/// Parses `/proc/sysvipc/shm`: a header line, then `key shmid perms size
/// cpid lpid nattch uid gid cuid cgid atime dtime ctime rss swap`. Lines
/// that do not parse are skipped: the table only adds sizes to what maps say.
pub fn parse_sysvipc(text: &str) -> Vec<SysvSegment> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            Some(SysvSegment {
                // The key is printed as a signed decimal int.
                key: f.first()?.parse::<i64>().ok()? as u32,
                shmid: f.get(1)?.parse().ok()?,
                size: f.get(3)?.parse().ok()?,
                rss: f.get(14).and_then(|s| s.parse().ok()).unwrap_or(0),
            })
        })
        .collect()
}

/// `text` escaped as all target text is ([`crate::text::escape`]: control
/// and invisible characters), and the replacement character too, which marks
/// bytes that were not UTF-8 in a path or comm.
pub fn escape(text: &str) -> String {
    crate::text::escape(text).replace('\u{fffd}', "\\u{fffd}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::Maps;

    fn region(line: &str) -> Region {
        Maps::parse(line, "test").expect("parses").regions()[0].clone()
    }

    #[test]
    fn classifies_each_kind_of_object() {
        let shm = region("7f00-7f01 rw-s 00000000 00:1a 77 /dev/shm/ring (deleted)");
        assert_eq!(
            ObjectKey::of(&shm),
            Some(ObjectKey::File {
                dev: "00:1a".into(),
                inode: 77
            })
        );
        assert!(ObjectKey::of(&shm).is_some_and(|k| k.is_memory(&shm.path)));
        let sysv = region("7f00-7f01 rw-s 00000000 00:01 32770 /SYSV0000abcd (deleted)");
        assert_eq!(
            ObjectKey::of(&sysv),
            Some(ObjectKey::Sysv {
                key: 0xabcd,
                shmid: 32770
            })
        );
        let memfd = region("7f00-7f01 rw-s 00000000 00:01 12 /memfd:ring (deleted)");
        assert_eq!(ObjectKey::of(&memfd).map(|k| k.kind()), Some("memfd"));
        let anon = region("7f00-7f01 rw-s 00000000 00:01 13 /dev/zero (deleted)");
        assert_eq!(ObjectKey::of(&anon).map(|k| k.kind()), Some("shared-anon"));
        let lib = region("7f00-7f01 r-xp 00001000 fd:01 99 /usr/lib/libc.so.6");
        assert_eq!(ObjectKey::of(&lib).map(|k| k.kind()), Some("file"));
        assert!(ObjectKey::of(&lib).is_some_and(|k| !k.is_memory(&lib.path)));
        for none in [
            "7f00-7f01 rw-p 00000000 00:00 0 [heap]",
            "7f00-7f01 rw-p 00000000 00:00 0 ",
            "7f00-7f01 r-xp 00000000 00:00 0 [vdso]",
        ] {
            assert_eq!(ObjectKey::of(&region(none)), None, "{none}");
        }
    }

    #[test]
    fn reads_the_sysvipc_table() {
        let text = "       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap\n\
                             0         32 600                    4096  1000  1001      2     0     0     0     0 1700000000          0 1700000000                  4096                     0\n\
                    -559038737         33 600                   65536  1000  1001      1     0     0     0     0 0 0 0 0 0\n\
                    garbage\n";
        let segs = parse_sysvipc(text);
        assert_eq!(segs.len(), 2);
        assert_eq!(
            segs[0],
            SysvSegment {
                key: 0,
                shmid: 32,
                size: 4096,
                rss: 4096
            }
        );
        assert_eq!(segs[1].key, 0xdeadbeef);
        assert_eq!(segs[1].size, 65536);
    }

    #[test]
    fn escapes_control_characters() {
        assert_eq!(escape("a\u{1b}[31mb\n"), "a\\u{1b}[31mb\\n");
        assert_eq!(escape("plain name"), "plain name");
        assert_eq!(escape("a\u{202e}b\u{fffd}"), "a\\u{202e}b\\u{fffd}");
    }
}
