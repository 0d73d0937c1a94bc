//! `/proc/PID/maps`: the target's memory regions.

use std::fmt;
use std::sync::Arc;

use crate::error::{Error, Result};

/// A region's access rights, as the four letters of `rwxp` / `rwxs`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Perms {
    pub read: bool,
    pub write: bool,
    pub exec: bool,
    pub shared: bool,
}

impl Perms {
    fn parse(s: &str) -> Option<Perms> {
        let b = s.as_bytes();
        if b.len() != 4 {
            return None;
        }
        let flag = |i: usize, c: u8| match b[i] {
            x if x == c => Some(true),
            b'-' => Some(false),
            _ => None,
        };
        Some(Perms {
            read: flag(0, b'r')?,
            write: flag(1, b'w')?,
            exec: flag(2, b'x')?,
            shared: match b[3] {
                b's' => true,
                b'p' => false,
                _ => return None,
            },
        })
    }
}

impl fmt::Display for Perms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = |on: bool, c: char| if on { c } else { '-' };
        write!(
            f,
            "{}{}{}{}",
            c(self.read, 'r'),
            c(self.write, 'w'),
            c(self.exec, 'x'),
            if self.shared { 's' } else { 'p' }
        )
    }
}

/// One line of `/proc/PID/maps`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Region {
    pub start: u64,
    pub end: u64,
    pub perms: Perms,
    pub offset: u64,
    /// `major:minor` of the backing file's device.
    pub dev: String,
    pub inode: u64,
    /// The path or pseudo-name (`[heap]`), without a ` (deleted)` suffix;
    /// empty for anonymous memory.
    pub path: String,
    /// The backing file was deleted after it was mapped.
    pub deleted: bool,
}

/// Kernel pseudo-regions that `process_vm_readv` cannot read even when their
/// permissions say `r`.
const UNREADABLE_SPECIALS: &[&str] = &["[vvar]", "[vvar_vclock]", "[vsyscall]"];

impl Region {
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }

    pub fn contains(&self, addr: u64) -> bool {
        self.start <= addr && addr < self.end
    }

    /// Whether pvtui can read this region at all.
    pub fn is_readable(&self) -> bool {
        self.perms.read && !UNREADABLE_SPECIALS.contains(&self.path.as_str())
    }

    /// Backed by a file (not anonymous memory or a `[pseudo]` region).
    pub fn is_file(&self) -> bool {
        self.path.starts_with('/') || (self.inode != 0 && !self.path.starts_with('['))
    }

    /// Whether `meta` (of an opened file) is this region's file: the same
    /// device (`maps` prints its major:minor in hex) and inode.
    pub fn is_file_of(&self, meta: &std::fs::Metadata) -> bool {
        use std::os::unix::fs::MetadataExt as _;
        let dev = meta.dev();
        // glibc's encoding of a dev_t (gnu_dev_major / gnu_dev_minor).
        let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
        let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
        let parsed = self.dev.split_once(':').and_then(|(a, b)| {
            Some((
                u64::from_str_radix(a, 16).ok()?,
                u64::from_str_radix(b, 16).ok()?,
            ))
        });
        meta.ino() == self.inode && parsed == Some((major, minor))
    }

    pub fn is_anonymous(&self) -> bool {
        !self.is_file()
    }

    /// The last component of the path (`libc.so.6`), or the pseudo-name.
    pub fn name(&self) -> &str {
        match self.path.rsplit_once('/') {
            Some((_, name)) if self.path.starts_with('/') => name,
            _ => &self.path,
        }
    }

    /// The name lists show: the file name, the pseudo-name, or `[anonymous]`.
    pub fn label(&self) -> String {
        match self.name() {
            "" => "[anonymous]".to_string(),
            name => name.to_string(),
        }
    }

    /// A short description for messages: `[heap] 0x55..-0x55..` or the file name.
    pub fn describe(&self) -> String {
        let name = if self.path.is_empty() {
            "anonymous mapping"
        } else {
            self.path.as_str()
        };
        format!("{name} {:#x}-{:#x}", self.start, self.end)
    }

    fn parse(line: &str) -> Option<Region> {
        // start-end perms offset dev inode [path]; the path may hold spaces.
        let mut rest = line;
        let mut field = || {
            rest = rest.trim_start_matches(' ');
            let end = rest.find(' ').unwrap_or(rest.len());
            let (f, r) = rest.split_at(end);
            rest = r;
            f
        };
        let range = field();
        let perms = field();
        let offset = field();
        let dev = field();
        let inode = field();
        let path = rest.trim_start_matches(' ');
        let (start, end) = range.split_once('-')?;
        let (path, deleted) = match path.strip_suffix(" (deleted)") {
            Some(p) => (p, true),
            None => (path, false),
        };
        Some(Region {
            start: u64::from_str_radix(start, 16).ok()?,
            end: u64::from_str_radix(end, 16).ok()?,
            perms: Perms::parse(perms)?,
            offset: u64::from_str_radix(offset, 16).ok()?,
            dev: dev.to_string(),
            inode: inode.parse().ok()?,
            // The kernel writes a newline in a path as `\012` (the one byte
            // it escapes there): back to the byte, so it is escaped once
            // when printed, and the path names the real file.
            path: path.replace("\\012", "\n"),
            deleted,
        })
    }
}

/// The regions of a target, sorted by address. Cheap to clone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Maps {
    regions: Arc<[Region]>,
    /// A hash of the text parsed, to tell cheaply whether anything changed.
    fingerprint: u64,
}

impl Maps {
    /// Parses the text of `/proc/PID/maps`; `source` names it in errors.
    pub fn parse(text: &str, source: &str) -> Result<Maps> {
        let mut regions = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.is_empty() {
                continue;
            }
            let region = Region::parse(line).ok_or_else(|| Error::ProcFormat {
                path: source.to_string(),
                line: i + 1,
                text: line.to_string(),
            })?;
            regions.push(region);
        }
        regions.sort_by_key(|r| r.start);
        Ok(Maps {
            regions: regions.into(),
            fingerprint: fingerprint(text),
        })
    }

    /// A hash of the text these maps were parsed from.
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// Whether `text` is what these maps were parsed from, without parsing it.
    pub fn is_parsed_from(&self, text: &str) -> bool {
        self.fingerprint == fingerprint(text)
    }

    pub fn regions(&self) -> &[Region] {
        &self.regions
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Region> {
        self.regions.iter()
    }

    /// The region holding `addr`.
    pub fn find(&self, addr: u64) -> Option<&Region> {
        let i = self.regions.partition_point(|r| r.end <= addr);
        self.regions.get(i).filter(|r| r.contains(addr))
    }

    /// The regions that overlap `[addr, addr + len)`, in order.
    pub fn overlapping(&self, addr: u64, len: u64) -> &[Region] {
        let end = addr.saturating_add(len);
        let from = self.regions.partition_point(|r| r.end <= addr);
        let to = self.regions.partition_point(|r| r.start < end);
        &self.regions[from..to.max(from)]
    }

    /// The regions pvtui can read.
    pub fn readable(&self) -> impl Iterator<Item = &Region> {
        self.regions.iter().filter(|r| r.is_readable())
    }

    /// The first region whose name or path is `name` (`[heap]`, `libc.so.6`,
    /// `/usr/bin/app`), or whose file name starts with it (`libc` for `libc.so.6`).
    /// A name as pvtui prints it (`\u{1b}`, `\n` escaped) finds the mapping too.
    pub fn find_by_name(&self, name: &str) -> Option<&Region> {
        self.find_by_exact_name(name).or_else(|| {
            let raw = crate::text::unescape(name).filter(|raw| raw != name)?;
            self.find_by_exact_name(&raw)
        })
    }

    fn find_by_exact_name(&self, name: &str) -> Option<&Region> {
        self.regions
            .iter()
            .find(|r| r.path == name || r.name() == name)
            .or_else(|| {
                self.regions
                    .iter()
                    .find(|r| r.is_file() && r.name().starts_with(name))
            })
    }

    /// The mappings of the object behind `region` (same device, inode and
    /// path), in address order.
    pub fn object_mappings<'a>(&'a self, region: &'a Region) -> impl Iterator<Item = &'a Region> {
        self.regions.iter().filter(move |r| {
            r.dev == region.dev && r.inode == region.inode && r.path == region.path
        })
    }

    /// Where byte `offset` of the object behind `region` is mapped: the
    /// mapping covering it at `start + (offset - file offset)`, a shared
    /// one before a private one (which may hold its own copy), then the
    /// lowest address. None when no mapping covers it.
    pub fn object_byte(&self, region: &Region, offset: u64) -> Option<u64> {
        self.object_mappings(region)
            .filter(|r| offset >= r.offset && offset - r.offset < r.end - r.start)
            .min_by_key(|r| (!r.perms.shared, r.start))
            .map(|r| r.start + (offset - r.offset))
    }
}

fn fingerprint(text: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
55d0c0a00000-55d0c0a02000 r--p 00000000 fd:01 1234                       /usr/bin/my app
55d0c0a02000-55d0c0a05000 r-xp 00002000 fd:01 1234                       /usr/bin/my app
55d0c1000000-55d0c1021000 rw-p 00000000 00:00 0                          [heap]
7f0000000000-7f0000001000 rw-s 00000000 00:01 99                         /memfd:ring (deleted)
7f0000001000-7f0000002000 ---p 00000000 00:00 0 
7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]
7ffd000fe000-7ffd00100000 r--p 00000000 00:00 0                          [vvar]
ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]
";

    fn sample() -> Maps {
        Maps::parse(SAMPLE, "maps").expect("sample parses")
    }

    #[test]
    fn parses_paths_with_spaces_and_deleted_suffix() {
        let maps = sample();
        assert_eq!(maps.regions().len(), 8);
        let exe = &maps.regions()[1];
        assert_eq!(exe.path, "/usr/bin/my app");
        assert_eq!(exe.name(), "my app");
        assert_eq!(exe.offset, 0x2000);
        assert!(exe.perms.exec && !exe.perms.write);
        let memfd = &maps.regions()[3];
        assert_eq!(memfd.path, "/memfd:ring");
        assert!(memfd.deleted && memfd.perms.shared);
    }

    #[test]
    fn a_newline_the_kernel_wrote_as_012_is_one_byte_and_a_printed_name_finds_it() {
        let text =
            "7f0000000000-7f0000001000 rw-s 00000000 00:01 99 /memfd:a\\012b\x1b[7m (deleted)\n";
        let maps = Maps::parse(text, "maps").expect("parses");
        let odd = maps.find(0x7f0000000000).expect("odd name");
        assert_eq!(odd.path, "/memfd:a\nb\x1b[7m");
        let printed = crate::text::escape(odd.name()).into_owned();
        assert_eq!(printed, "memfd:a\\nb\\u{1b}[7m");
        assert!(maps.find_by_name(&printed).is_some());
    }

    #[test]
    fn anonymous_and_special_regions() {
        let maps = sample();
        let guard = &maps.regions()[4];
        assert_eq!(guard.path, "");
        assert!(guard.is_anonymous() && !guard.is_readable());
        assert!(
            maps.find_by_name("[heap]")
                .is_some_and(|r| r.is_anonymous())
        );
        assert!(!maps.find_by_name("[vvar]").expect("vvar").is_readable());
        assert!(
            !maps
                .find_by_name("[vsyscall]")
                .expect("vsyscall")
                .is_readable()
        );
        assert_eq!(maps.readable().count(), 5);
    }

    #[test]
    fn finds_regions_by_address() {
        let maps = sample();
        assert_eq!(maps.find(0x55d0c0a02000).map(|r| r.offset), Some(0x2000));
        assert_eq!(maps.find(0x55d0c0a01fff).map(|r| r.offset), Some(0));
        assert!(maps.find(0x55d0c0a05000).is_none());
        assert_eq!(maps.overlapping(0x55d0c0a01000, 0x2000).len(), 2);
        assert!(maps.overlapping(0x1000, 0x10).is_empty());
    }

    #[test]
    fn finds_modules_by_name_prefix() {
        let maps = sample();
        assert_eq!(
            maps.find_by_name("my").map(|r| r.start),
            Some(0x55d0c0a00000)
        );
    }

    #[test]
    fn rejects_garbage_with_line_number() {
        let err = Maps::parse("55d0-zz r--p 0 0:0 0\n", "/proc/1/maps").expect_err("bad");
        assert!(err.to_string().contains("/proc/1/maps:1"), "{err}");
    }

    #[test]
    fn perms_round_trip() {
        for p in ["r--p", "rw-s", "r-xp", "---p", "rwxs"] {
            assert_eq!(Perms::parse(p).expect(p).to_string(), p);
        }
    }

    #[test]
    fn an_object_byte_is_found_in_the_mapping_covering_it_shared_first() {
        let text = "\
7f0000000000-7f0000002000 rw-s 00001000 00:1a 7 /dev/shm/ring
7f1000000000-7f1000003000 rw-p 00000000 00:1a 7 /dev/shm/ring
7f2000000000-7f2000001000 rw-s 00000000 00:1a 8 /dev/shm/other
";
        let maps = Maps::parse(text, "test").expect("maps");
        let ring = maps.find_by_name("ring").expect("ring");
        // Byte 0x10 only in the private mapping (offset 0).
        assert_eq!(maps.object_byte(ring, 0x10), Some(0x7f10_0000_0010));
        // Page 1 in both: the shared mapping wins.
        assert_eq!(maps.object_byte(ring, 0x1010), Some(0x7f00_0000_0010));
        assert_eq!(maps.object_byte(ring, 0x2fff), Some(0x7f00_0000_1fff));
        // Past the end of every mapping; another object's bytes never count.
        assert_eq!(maps.object_byte(ring, 0x3000), None);
        assert_eq!(maps.object_mappings(ring).count(), 2);
    }
}
