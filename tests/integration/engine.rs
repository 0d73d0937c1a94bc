//! The engine against real processes: attach, batched reads with holes,
//! residency, deadlines, verified writes, and pid reuse.

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use pvtui::Error;
use pvtui::process::{Memory, MemoryWorker, ReadMode, Target, Unread};

use crate::util::{
    Fixture, fixture, inside_pid_namespace, pvtui_bin, run_in_pid_namespace, skip_unless_root,
};

const PAGE: u64 = 4096;

fn spawn_target() -> Fixture {
    Fixture::spawn(&fixture("target", "", &[]), &[])
}

fn known_byte(i: u64) -> u8 {
    (i.wrapping_mul(7) + 3) as u8
}

fn uffd_addrs(fx: &Fixture) -> Option<(u64, u64)> {
    if fx.var("uffd").starts_with("unavailable") {
        return None;
    }
    Some((fx.addr("uffd_present"), fx.addr("uffd")))
}

#[test]
fn reads_known_bytes() {
    let fx = spawn_target();
    let target = Target::attach(fx.pid).expect("attach");
    let maps = target.maps().expect("maps");
    let known = fx.addr("known");
    let out = target
        .read(&maps, &[(known, 2 * PAGE as usize)], ReadMode::NoWait)
        .expect("read");
    let bytes = out[0].bytes().expect("all bytes read");
    assert!(
        bytes
            .iter()
            .enumerate()
            .all(|(i, &b)| b == known_byte(i as u64))
    );
}

#[test]
fn batch_with_unmapped_hole_still_delivers_the_ranges_after_it() {
    let fx = spawn_target();
    let target = Target::attach(fx.pid).expect("attach");
    let maps = target.maps().expect("maps");
    let (hole, known) = (fx.addr("hole"), fx.addr("known"));
    let ranges = [
        (hole, 16),
        (hole + PAGE + 8, 16),
        (hole + 2 * PAGE, 16),
        (known + 100, 4),
    ];
    let out = target.read(&maps, &ranges, ReadMode::NoWait).expect("read");
    assert_eq!(out[0].bytes(), Some(&[0xaa; 16][..]));
    assert_eq!(out[1].first_unread(), Some(Unread::Unmapped));
    assert_eq!(out[1].gaps[0].len, 16);
    assert_eq!(out[2].bytes(), Some(&[0xbb; 16][..]));
    let expect: Vec<u8> = (100..104).map(known_byte).collect();
    assert_eq!(out[3].bytes(), Some(&expect[..]));
}

#[test]
fn one_range_across_a_hole_marks_exactly_the_missing_page() {
    let fx = spawn_target();
    let target = Target::attach(fx.pid).expect("attach");
    let maps = target.maps().expect("maps");
    let hole = fx.addr("hole");
    let mut buf = vec![0u8; 3 * PAGE as usize];
    let gaps = target
        .read_into(&maps, hole, &mut buf, ReadMode::NoWait)
        .expect("read");
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    assert_eq!((gaps[0].addr, gaps[0].len), (hole + PAGE, PAGE));
    assert_eq!(gaps[0].why, Unread::Unmapped);
    assert!(buf[..PAGE as usize].iter().all(|&b| b == 0xaa));
    assert!(buf[2 * PAGE as usize..].iter().all(|&b| b == 0xbb));
}

/// The maps may be stale: the kernel's short read must still be resumed past
/// the bad page, and only that page marked.
#[test]
fn stale_maps_short_read_resumes_after_the_bad_page() {
    let mut fx = spawn_target();
    let target = Target::attach(fx.pid).expect("attach");
    let maps = target.maps().expect("maps before unmap");
    let (known, hole) = (fx.addr("known"), fx.addr("hole"));
    fx.send("unmap");
    fx.expect_line("unmapped");
    let out = target
        .read(
            &maps,
            &[
                (hole, 8),
                (known + 8, 8),
                (known + PAGE, 8),
                (hole + 2 * PAGE, 8),
            ],
            ReadMode::NoWait,
        )
        .expect("read");
    assert_eq!(out[0].bytes(), Some(&[0xaa; 8][..]));
    // Told apart from a page that is merely not resident by reading the maps again.
    assert_eq!(out[1].first_unread(), Some(Unread::Unmapped));
    assert_eq!(out[2].first_unread(), Some(Unread::Unmapped));
    assert_eq!(out[3].bytes(), Some(&[0xbb; 8][..]));
}

#[test]
fn maps_report_changes_only_when_they_change() {
    let mut fx = spawn_target();
    let target = Target::attach(fx.pid).expect("attach");
    let maps = target.maps().expect("maps");
    assert!(maps.find(fx.addr("known")).is_some_and(|r| r.perms.write));
    assert_eq!(target.maps_if_changed(&maps).expect("maps"), None);
    fx.send("unmap");
    fx.expect_line("unmapped");
    let changed = target
        .maps_if_changed(&maps)
        .expect("maps")
        .expect("changed");
    assert!(changed.find(fx.addr("known")).is_none());
}

#[test]
fn protected_page_and_untouched_anonymous_page() {
    let fx = spawn_target();
    let target = Target::attach(fx.pid).expect("attach");
    let maps = target.maps().expect("maps");
    let out = target
        .read(
            &maps,
            &[(fx.addr("noperm"), 8), (fx.addr("anon"), 64)],
            ReadMode::NoWait,
        )
        .expect("read");
    assert_eq!(out[0].first_unread(), Some(Unread::Protected));
    // Never touched: reads as zeros, without IO, so it is not "not resident".
    assert_eq!(out[1].bytes(), Some(&[0u8; 64][..]));
}

#[test]
fn userfaultfd_missing_page_is_not_resident_and_others_still_read() {
    if skip_unless_root(
        "userfaultfd_missing_page_is_not_resident_and_others_still_read",
        "the fixture needs a userfaultfd (vm.unprivileged_userfaultfd is usually 0)",
    ) {
        return;
    }
    let fx = spawn_target();
    let (present, missing) = uffd_addrs(&fx).expect("root can create a userfaultfd");
    let target = Arc::new(Target::attach(fx.pid).expect("attach"));
    let maps = target.maps().expect("maps");
    let mut worker = MemoryWorker::new(target, Duration::from_millis(500));
    let known = fx.addr("known");
    let out = worker
        .read(
            &maps,
            &[(present, 8), (missing, 8), (known, 8)],
            ReadMode::NoWait,
        )
        .expect("read");
    assert_eq!(out[0].bytes(), Some(&[0xcc; 8][..]));
    assert_eq!(out[1].first_unread(), Some(Unread::NotResident));
    assert!(out[2].is_complete());
    assert_eq!(
        worker.stalls(),
        0,
        "the residency check kept the read from blocking"
    );
}

#[test]
fn forced_read_of_a_page_that_never_faults_in_stalls_and_is_abandoned() {
    if skip_unless_root(
        "forced_read_of_a_page_that_never_faults_in_stalls_and_is_abandoned",
        "the fixture needs a userfaultfd",
    ) {
        return;
    }
    let fx = spawn_target();
    let (_, missing) = uffd_addrs(&fx).expect("root can create a userfaultfd");
    let target = Arc::new(Target::attach(fx.pid).expect("attach"));
    let maps = target.maps().expect("maps");
    let mut worker = MemoryWorker::new(target, Duration::from_millis(200));
    let known = fx.addr("known");
    let out = worker
        .read(&maps, &[(known, 8), (missing, 8)], ReadMode::Force)
        .expect("read");
    assert!(
        out[0].is_complete(),
        "the other range is found by bisection"
    );
    assert_eq!(out[1].first_unread(), Some(Unread::Stalled));
    let stalls = worker.stalls();
    assert!(stalls >= 1);
    // Quarantined: asked again, it is reported at once without a new stall.
    let again = worker
        .read(&maps, &[(missing, 8)], ReadMode::Force)
        .expect("read");
    assert_eq!(again[0].first_unread(), Some(Unread::Stalled));
    assert_eq!(worker.stalls(), stalls);
    // The fixture's exit releases the stuck reader.
}

#[test]
fn write_lands_and_the_target_sees_it() {
    let mut fx = spawn_target();
    let target = Target::attach(fx.pid).expect("attach");
    let maps = target.maps().expect("maps");
    let addr = fx.addr("value");
    let report = target
        .write(&maps, addr, &7_777_777u64.to_ne_bytes())
        .expect("write");
    assert!(report.landed(), "{report:?}");
    assert_eq!(report.before, 42u64.to_ne_bytes());
    assert_eq!(fx.expect_line("changed value="), "changed value=7777777");
}

#[test]
fn write_to_read_only_page_is_refused_and_nothing_changes() {
    let fx = spawn_target();
    let target = Target::attach(fx.pid).expect("attach");
    let maps = target.maps().expect("maps");
    let ro = fx.addr("ro");
    let err = target.write(&maps, ro, b"xx").expect_err("read-only");
    assert!(matches!(err, Error::ReadOnly { .. }), "{err}");
    assert!(err.to_string().contains("r--p"), "{err}");
    let out = target
        .read(&maps, &[(ro, 2)], ReadMode::NoWait)
        .expect("read");
    assert_eq!(out[0].bytes(), Some(&b"RR"[..]));
}

#[test]
fn write_to_unmapped_address_is_refused() {
    let fx = spawn_target();
    let target = Target::attach(fx.pid).expect("attach");
    let maps = target.maps().expect("maps");
    let err = target
        .write(&maps, fx.addr("hole") + PAGE, b"x")
        .expect_err("unmapped");
    assert!(matches!(err, Error::Unmapped { .. }), "{err}");
}

#[test]
fn thread_id_attaches_to_its_process() {
    let fx = spawn_target();
    let tid: i32 = fx.var("thread").parse().expect("tid");
    let target = Target::attach(tid).expect("attach by tid");
    assert_eq!(target.pid(), fx.pid);
    let note = target.note().expect("a note about the thread");
    assert!(
        note.contains(&tid.to_string()) && note.contains(&fx.pid.to_string()),
        "{note}"
    );
}

#[test]
fn zombie_missing_and_kernel_thread_are_distinct_errors() {
    let mut fx = spawn_target();
    fx.send("zombie");
    let zombie: i32 = fx.expect_line("zombie=")["zombie=".len()..]
        .parse()
        .expect("pid");
    assert!(matches!(Target::attach(zombie), Err(Error::Zombie { .. })));
    assert!(matches!(
        Target::attach(i32::MAX - 1),
        Err(Error::NoSuchProcess { .. })
    ));
    assert!(matches!(Target::attach(0), Err(Error::InvalidPid { .. })));
    // kthreadd is pid 2 wherever the host pid namespace is visible.
    match Target::attach(2) {
        Err(Error::KernelThread { .. }) => {}
        other => eprintln!("pid 2 is not kthreadd here (own pid namespace?): {other:?}"),
    }
}

#[test]
fn exit_is_noticed_and_reads_fail_as_exited() {
    let mut fx = spawn_target();
    let target = Target::attach(fx.pid).expect("attach");
    let maps = target.maps().expect("maps");
    assert!(target.is_alive());
    fx.send("exit 3");
    let status = fx.child.wait().expect("reap");
    assert_eq!(status.code(), Some(3));
    assert!(!target.is_alive());
    let err = target
        .read(&maps, &[(fx.addr("known"), 8)], ReadMode::NoWait)
        .expect_err("exited");
    assert!(err.is_exit(), "{err}");
    assert!(target.maps().expect_err("exited").is_exit());
}

#[test]
fn cli_dump_marks_unread_bytes_with_reasons() {
    let fx = spawn_target();
    let hole = fx.addr("hole");
    let out = Command::new(pvtui_bin())
        .args(["dump", "--json", "--pid", &fx.pid.to_string()])
        .arg(format!("{:#x}", hole + PAGE - 4))
        .arg("8")
        .output()
        .expect("run pvtui dump");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["hex"], "aaaaaaaa????????");
    assert_eq!(json["gaps"][0]["reason"], "unmapped");
    assert_eq!(out.status.code(), Some(3), "incomplete dumps exit 3");
}

#[test]
fn cli_errors_are_one_line_without_panic() {
    let own = std::process::id().to_string();
    // The kernel hands out pids below pid_max: pid_max itself never exists.
    let pid_max = std::fs::read_to_string("/proc/sys/kernel/pid_max").expect("pid_max");
    let absent = pid_max.trim();
    for (args, want) in [
        (vec!["maps", "--pid", absent], "no process with pid"),
        (
            vec!["maps", "--pid", "2147483646"],
            "a pid must be 1..=4194304",
        ),
        (
            vec!["dump", "--pid", &own, "0x10", "4k"],
            "not a decimal or 0x-hex",
        ),
        (vec!["dump", "--pid", &own, "zz +", "4"], "at column 5"),
    ] {
        let out = Command::new(pvtui_bin()).args(&args).output().expect("run");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn unprivileged_user_gets_a_clear_permission_error() {
    if skip_unless_root(
        "unprivileged_user_gets_a_clear_permission_error",
        "switching to another uid needs root",
    ) {
        return;
    }
    let fx = spawn_target();
    // The build directory may not be reachable by another user: copy the binary.
    let dir = std::env::temp_dir().join(format!("pvtui-perm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let bin = dir.join("pvtui");
    std::fs::copy(pvtui_bin(), &bin).expect("copy pvtui");
    use std::os::unix::fs::PermissionsExt;
    for p in [&dir, &bin] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    use std::os::unix::process::CommandExt;
    let out = Command::new(&bin)
        .args(["maps", "--pid", &fx.pid.to_string()])
        .uid(65534)
        .gid(65534)
        .output()
        .expect("run pvtui as nobody");
    let _ = std::fs::remove_dir_all(&dir);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("permission denied"), "{err}");
    assert!(err.contains("uid 0") && err.contains("uid 65534"), "{err}");
    assert!(err.contains("CAP_SYS_PTRACE"), "{err}");
}

/// A reaped target's pid given to a new process: the old attach must neither
/// read nor write a byte of the newcomer. Runs in a private pid namespace,
/// where `ns_last_pid` can steer the next pid without racing the host.
#[test]
fn pid_reuse_is_never_read_or_written() {
    run_in_pid_namespace(
        "pid_reuse_is_never_read_or_written",
        "engine::pid_reuse_inside_namespace",
    );
}

#[test]
#[ignore = "run inside a pid namespace by pid_reuse_is_never_read_or_written"]
fn pid_reuse_inside_namespace() {
    if !inside_pid_namespace() {
        return;
    }
    let mut old = spawn_target();
    let old_pid = old.pid;
    let target = Target::attach(old_pid).expect("attach");
    let maps = target.maps().expect("maps");
    let value = old.addr("value");
    old.kill();
    std::fs::write("/proc/sys/kernel/ns_last_pid", format!("{}", old_pid - 1))
        .expect("set ns_last_pid");
    let new = spawn_target();
    assert_eq!(new.pid, old_pid, "the new process took the old pid");
    // Non-PIE fixtures would share addresses; make sure the address is live in the newcomer.
    let fresh = Target::attach(new.pid).expect("attach newcomer");
    let fresh_maps = fresh.maps().expect("maps");
    let newcomer_value = new.addr("value");
    let read = target.read(&maps, &[(newcomer_value, 8)], ReadMode::NoWait);
    assert!(matches!(read, Err(Error::TargetExited { .. })), "{read:?}");
    let write = target.write(&fresh_maps, newcomer_value, &1u64.to_ne_bytes());
    assert!(write.is_err(), "{write:?}");
    let check = fresh
        .read(&fresh_maps, &[(newcomer_value, 8)], ReadMode::NoWait)
        .expect("read newcomer");
    assert_eq!(check[0].bytes(), Some(&42u64.to_ne_bytes()[..]));
    let _ = value;
}

/// `pvtui dump ... | head` must end quietly when `head` goes away.
#[test]
fn broken_pipe_ends_quietly_without_a_panic() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let fx = Fixture::spawn(&fixture("target", "", &[]), &["4"]);
    let mut child = Command::new(pvtui_bin())
        .args([
            "dump",
            "--pid",
            &fx.pid.to_string(),
            fx.var("big"),
            "4194304",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run pvtui dump");
    let mut first = String::new();
    let stdout = child.stdout.take().expect("stdout");
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("a line");
    // The reader is dropped here: the rest of the dump hits a closed pipe.
    let out = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!first.is_empty());
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(
        out.status.code(),
        Some(0),
        "the same quiet end as search: {err}"
    );
    assert!(!err.contains("pvtui:"), "{err}");
}

#[test]
fn cli_dump_takes_an_expression_for_its_address() {
    let fx = spawn_target();
    let out = Command::new(pvtui_bin())
        .args(["dump", "--json", "--pid", &fx.pid.to_string(), "value", "8"])
        .output()
        .expect("run pvtui dump");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
    });
    assert_eq!(json["address"], format!("{:#x}", fx.addr("value")));
    assert_eq!(json["hex"], "2a00000000000000");
    let bad = Command::new(pvtui_bin())
        .args(["dump", "--pid", &fx.pid.to_string(), "valeu", "8"])
        .output()
        .expect("run pvtui dump");
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(!bad.status.success());
    assert!(err.contains("did you mean value"), "{err}");
}
