//! The shared-memory map over a real parent and forked child that share a
//! POSIX shm object, a SysV segment, a memfd and a shared anonymous page,
//! with a private copy-on-write mapping of the shm object in the child.

use std::process::Command;

use pvtui::process::{ReadMode, Target};
use pvtui::shared::{
    self, Compare, Divergence, Method, ObjectKey, Options, Selection, SharedObject,
};

use crate::util::{Fixture, fixture, pvtui_bin, skip_unless_root};

/// The "shared" fixture: a parent and its forked child sharing memory.
pub(crate) struct Pair {
    pub(crate) fx: Fixture,
    pub(crate) parent: i32,
    pub(crate) child: i32,
    pub(crate) page: u64,
}

pub(crate) fn spawn_pair() -> Pair {
    let fx = Fixture::spawn(&fixture("shared", "", &[]), &[]);
    let (parent, child) = (fx.pid, fx.number("child_pid") as i32);
    let page = fx.number("page");
    Pair {
        fx,
        parent,
        child,
        page,
    }
}

fn collect(pair: &Pair, compare: Compare) -> Vec<SharedObject> {
    let options = Options {
        compare,
        ..Options::default()
    };
    shared::collect(&Selection::Pids(vec![pair.parent, pair.child]), &options)
        .expect("collect")
        .objects
}

/// The object some mapping of which starts at `addr` in `pid`.
fn object_at(objects: &[SharedObject], pid: i32, addr: u64) -> &SharedObject {
    objects
        .iter()
        .find(|o| o.mappings.iter().any(|m| m.pid == pid && m.start == addr))
        .unwrap_or_else(|| panic!("no object mapped at {addr:#x} in {pid}: {objects:#?}"))
}

/// `(pid, start, end, perms, offset)` of every mapping of an object.
fn layout(o: &SharedObject) -> Vec<(i32, u64, u64, String, u64)> {
    o.mappings
        .iter()
        .map(|m| (m.pid, m.start, m.end, m.perms.to_string(), m.offset))
        .collect()
}

/// How the object's one private (copy-on-write) mapping differs from it.
fn private_divergence(o: &SharedObject) -> &Divergence {
    o.mappings
        .iter()
        .find(|m| !m.is_shared())
        .expect("the private mapping")
        .divergence
        .as_ref()
        .expect("compared")
}

#[test]
fn groups_every_kind_of_shared_object_with_every_address() {
    let pair = spawn_pair();
    let (fx, p, c, page) = (&pair.fx, pair.parent, pair.child, pair.page);
    let objects = collect(&pair, Compare::Auto);

    let shm = object_at(&objects, p, fx.addr("parent_shm"));
    assert!(matches!(shm.key, ObjectKey::File { .. }), "{:?}", shm.key);
    assert!(
        shm.name.starts_with("/dev/shm/pvtui-shared-"),
        "{}",
        shm.name
    );
    assert!(shm.deleted);
    let (ps, cs, cp) = (
        fx.addr("parent_shm"),
        fx.addr("child_shm"),
        fx.addr("child_priv"),
    );
    assert_ne!(ps, cs, "the fixture maps the object at two addresses");
    let mut want = vec![
        (p, ps, ps + 3 * page, "rw-s".to_string(), 0),
        (c, cs, cs + 2 * page, "rw-s".to_string(), page),
        (c, cp, cp + 3 * page, "rw-p".to_string(), 0),
    ];
    want.sort();
    assert_eq!(layout(shm), want);
    assert_eq!(shm.processes(), 2);
    assert_eq!(shm.extent, 3 * page);
    if nix::unistd::geteuid().is_root() {
        // map_files is root's only: elsewhere the size is not known.
        assert_eq!(shm.size, Some(3 * page));
    }

    let sysv = object_at(&objects, p, fx.addr("sysv"));
    assert_eq!(
        sysv.key,
        ObjectKey::Sysv {
            key: 0,
            shmid: fx.number("sysv_id")
        }
    );
    let at = fx.addr("sysv");
    assert_eq!(
        layout(sysv),
        vec![
            (p, at, at + page, "rw-s".into(), 0),
            (c, at, at + page, "rw-s".into(), 0)
        ]
    );
    assert_eq!(sysv.size, Some(page), "from /proc/sysvipc/shm");

    let memfd = object_at(&objects, p, fx.addr("memfd"));
    assert!(
        matches!(memfd.key, ObjectKey::Memfd { .. }),
        "{:?}",
        memfd.key
    );
    assert_eq!(memfd.name, "/memfd:pvtui-ring");
    let at = fx.addr("memfd");
    assert_eq!(
        layout(memfd),
        vec![
            (p, at, at + 2 * page, "rw-s".into(), 0),
            (c, at, at + 2 * page, "rw-s".into(), 0)
        ]
    );
    assert_eq!(memfd.resident, Some(2 * page), "both pages were written");

    let anon = object_at(&objects, p, fx.addr("anon"));
    assert!(
        matches!(anon.key, ObjectKey::SharedAnon { .. }),
        "{:?}",
        anon.key
    );
    let at = fx.addr("anon");
    assert_eq!(
        layout(anon),
        vec![
            (p, at, at + page, "rw-s".into(), 0),
            (c, at, at + page, "rw-s".into(), 0)
        ]
    );

    // Four distinct objects, none of them counted twice.
    let mut keys: Vec<&ObjectKey> = [shm, sysv, memfd, anon].iter().map(|o| &o.key).collect();
    keys.dedup();
    assert_eq!(keys.len(), 4);
}

#[test]
fn pagemap_finds_the_written_private_page_and_only_it() {
    let pair = spawn_pair();
    let objects = collect(&pair, Compare::Auto);
    let shm = object_at(&objects, pair.child, pair.fx.addr("child_priv"));
    let d = private_divergence(shm);
    let root = nix::unistd::geteuid().is_root();
    assert_eq!(d.method, if root { Method::Pfn } else { Method::Pagemap });
    assert_eq!((d.pages, d.diverged, d.unknown), (3, 1, 0), "{d:?}");
    assert_eq!(
        d.first,
        vec![pair.page],
        "page 1 was written; 0 and 2 only read"
    );
    for m in shm.mappings.iter().filter(|m| m.is_shared()) {
        assert!(m.divergence.is_none(), "shared mappings cannot diverge");
    }
}

#[test]
fn a_private_mapping_of_an_ordinary_file_shared_elsewhere_is_compared() {
    let pair = spawn_pair();
    let objects = collect(&pair, Compare::Auto);
    let file = object_at(&objects, pair.parent, pair.fx.addr("file"));
    assert!(
        file.name.starts_with("/tmp/pvtui-shared-file-"),
        "{}",
        file.name
    );
    let at = pair.fx.addr("child_file_priv");
    let private = file
        .mappings
        .iter()
        .find(|m| m.pid == pair.child && m.start == at)
        .expect("the child's private mapping is listed with the file");
    assert!(!private.is_shared());
    let d = private.divergence.as_ref().expect("compared");
    assert_eq!((d.pages, d.diverged), (2, 1), "{d:?}");
    assert_eq!(d.first, vec![0], "page 0 was written, page 1 only read");
}

#[test]
fn byte_comparison_finds_the_same_page() {
    let pair = spawn_pair();
    let objects = collect(&pair, Compare::Bytes);
    let shm = object_at(&objects, pair.child, pair.fx.addr("child_priv"));
    let d = private_divergence(shm);
    assert_eq!(d.method, Method::Bytes);
    assert_eq!((d.pages, d.diverged, d.unknown), (3, 1, 0), "{d:?}");
    assert_eq!(d.first, vec![pair.page]);
}

#[test]
fn a_write_through_one_process_reaches_the_other_but_not_its_private_copy() {
    let pair = spawn_pair();
    let (fx, page) = (&pair.fx, pair.page);
    let parent = Target::attach(pair.parent).expect("attach parent");
    let child = Target::attach(pair.child).expect("attach child");
    let (pmaps, cmaps) = (parent.maps().expect("maps"), child.maps().expect("maps"));
    // Object page 1 is at parent_shm + page, and at child_shm + 0 (offset one page).
    let ps = fx.addr("parent_shm");
    let report = parent
        .write(&pmaps, ps + page + 8, b"written!")
        .expect("write");
    assert!(report.landed());
    let report = parent
        .write(&pmaps, ps + 2 * page + 8, b"page two")
        .expect("write");
    assert!(report.landed());

    let (cs, cp) = (fx.addr("child_shm"), fx.addr("child_priv"));
    let reads = child
        .read(
            &cmaps,
            &[(cs + 8, 8), (cp + page + 8, 8), (cp + 2 * page + 8, 8)],
            ReadMode::NoWait,
        )
        .expect("read child");
    assert_eq!(reads[0].bytes(), Some(&b"written!"[..]), "shared: seen");
    assert_eq!(
        reads[1].bytes(),
        Some(&b"BBBBBBBB"[..]),
        "the child's own copy of page 1 keeps its bytes"
    );
    assert_eq!(
        reads[2].bytes(),
        Some(&b"page two"[..]),
        "an undiverged private page still shows the object"
    );
}

fn run_cli(args: &[&str]) -> std::process::Output {
    Command::new(pvtui_bin())
        .arg("shared")
        .args(args)
        .output()
        .expect("run pvtui shared")
}

#[test]
fn cli_json_has_one_record_per_mapping_each_with_its_pid() {
    let pair = spawn_pair();
    let (p, c) = (pair.parent.to_string(), pair.child.to_string());
    let out = run_cli(&["--pid", &p, "--pid", &c, "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let records: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert!(records.iter().all(|r| r["pid"].is_i64()), "{records:?}");
    let ring: Vec<&serde_json::Value> = records
        .iter()
        .filter(|r| r["name"] == "/memfd:pvtui-ring")
        .collect();
    assert_eq!(ring.len(), 2);
    assert_eq!(ring[0]["kind"], "memfd");
    assert_eq!(ring[0]["start"], pair.fx.var("memfd"));
    let private = records
        .iter()
        .find(|r| {
            r["shared"] == false
                && r["name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("/dev/shm/"))
        })
        .expect("the private shm mapping");
    assert_eq!(private["pid"], pair.child);
    assert_eq!(private["start"], pair.fx.var("child_priv"));
    assert_eq!(private["divergence"]["diverged"], 1);
    assert_eq!(private["divergence"]["first"][0], pair.page);
}

#[test]
fn cli_text_escapes_the_name_a_target_chose() {
    let pair = spawn_pair();
    let out = run_cli(&["--name", "shared"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains('\u{1b}'), "raw escape printed: {text}");
    assert!(text.contains("sh\\u{1b}[7mchild"), "{text}");
    assert!(text.contains(&format!(" {} ", pair.child)), "{text}");
    assert!(text.contains("/memfd:pvtui-ring (deleted)"), "{text}");
}

#[test]
fn cli_errors_are_one_clear_line() {
    let out = run_cli(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--pid PID"));
    // Refused when the arguments are parsed, by the shared pid parser.
    let out = run_cli(&["--pid", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("out of range: a pid"));
    let out = run_cli(&["--name", "no-such-process-pvtui"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no process is named"));
    let out = run_cli(&["--pid", "1", "--all"]);
    assert_eq!(out.status.code(), Some(2), "--pid and --all conflict");
}

#[test]
fn all_skips_processes_another_user_may_not_read() {
    if skip_unless_root(
        "all_skips_processes_another_user_may_not_read",
        "running pvtui as another uid needs root",
    ) {
        return;
    }
    let pair = spawn_pair();
    let dir = std::env::temp_dir().join(format!("pvtui-shared-all-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let bin = dir.join("pvtui");
    // Copied by `cp`, not here: a write descriptor of ours could be inherited
    // by a fixture another test forks meanwhile, and exec would then fail
    // with ETXTBSY.
    let copied = Command::new("cp")
        .arg(pvtui_bin())
        .arg(&bin)
        .status()
        .expect("run cp");
    assert!(copied.success(), "cp pvtui failed");
    use std::os::unix::fs::PermissionsExt;
    for p in [&dir, &bin] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    use std::os::unix::process::CommandExt;
    let out = Command::new(&bin)
        .args(["shared", "--all"])
        .uid(65534)
        .gid(65534)
        .output()
        .expect("run pvtui as nobody");
    let _ = std::fs::remove_dir_all(&dir);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("processes: permission denied"),
        "root's processes are counted, not errors: {stderr}"
    );
    assert!(!stderr.contains("error"), "{stderr}");
    assert!(
        !stdout.contains("pvtui-ring"),
        "root's fixture is not readable by nobody: {stdout}"
    );
    drop(pair);
}
