//! The native kernel paths: every access through the pidfd
//! (`PROCESS_VM_PIDFD`) and never-block reads (`PROCESS_VM_NOWAIT`).
//!
//! The flags come from a kernel patch, so these tests run for real only on a
//! kernel that carries it: `tests/kernel/run.sh` boots one under QEMU. On any
//! other kernel each test says it is skipped and why. With
//! `PVTUI_EXPECT_NATIVE` set (the VM sets it) a missing flag fails instead.

use std::sync::Arc;
use std::time::Duration;

use pvtui::Error;
use pvtui::process::{MemoryWorker, ReadMode, Target, Unread};

use crate::util::{Fixture, fixture};

/// Long enough for a slow, software-emulated VM: a read that would block is
/// abandoned after this and reported `Stalled`, which the tests reject.
const DEADLINE: Duration = Duration::from_secs(15);

fn spawn_native() -> Fixture {
    Fixture::spawn(&fixture("native", "", &[]), &[])
}

/// Whether the target's access uses the native flags the test needs; prints
/// why the test is skipped when not.
fn native(test: &str, target: &Target, pidfd: bool, nowait: bool) -> bool {
    let access = target.access();
    let missing: Vec<&str> = [
        (pidfd && !access.pidfd, "PROCESS_VM_PIDFD"),
        (nowait && !access.nowait, "PROCESS_VM_NOWAIT"),
    ]
    .into_iter()
    .filter_map(|(absent, flag)| absent.then_some(flag))
    .collect();
    if missing.is_empty() {
        return true;
    }
    assert!(
        std::env::var_os("PVTUI_EXPECT_NATIVE").is_none(),
        "{test}: PVTUI_EXPECT_NATIVE is set but this kernel lacks {}",
        missing.join(" and ")
    );
    eprintln!(
        "SKIPPED {test}: this kernel lacks {} (tests/kernel/run.sh runs it on a kernel that has it)",
        missing.join(" and ")
    );
    false
}

#[test]
fn reading_a_reaped_target_through_its_pidfd_reports_target_exited() {
    let mut fx = spawn_native();
    let target = Target::attach(fx.pid).expect("attach");
    if !native("reading_a_reaped_target_through_its_pidfd_reports_target_exited", &target, true, false) {
        return;
    }
    let maps = target.maps().expect("maps");
    let value = fx.addr("value");
    let before = target.read(&maps, &[(value, 16)], ReadMode::Force).expect("read while alive");
    assert_eq!(before[0].bytes(), Some(&b"pvtui-native-ok!"[..]));

    // Reaped, not just dead: the pid is free for reuse and only the pidfd
    // still names the old process; the kernel answers ESRCH through it.
    fx.kill();
    for mode in [ReadMode::Force, ReadMode::NoWait] {
        match target.read(&maps, &[(value, 16)], mode) {
            Err(Error::TargetExited { pid }) => assert_eq!(pid, fx.pid),
            other => panic!("{mode:?} read of a reaped target gave {other:?}, not TargetExited"),
        }
    }
}

#[test]
fn nowait_on_a_userfaultfd_missing_page_is_not_resident_not_unmapped() {
    let fx = spawn_native();
    let target = Arc::new(Target::attach(fx.pid).expect("attach"));
    let test = "nowait_on_a_userfaultfd_missing_page_is_not_resident_not_unmapped";
    if !native(test, &target, false, true) {
        return;
    }
    let uffd = fx.addr("uffd");
    if uffd == 0 {
        eprintln!("SKIPPED {test}: the fixture could not use userfaultfd: {}", fx.var("uffd_error"));
        return;
    }
    let page = fx.number("page");
    let span = fx.addr("span");
    let hole = fx.addr("hole");
    let maps = target.maps().expect("maps");
    // A blocking read of the missing page would wait for a userfaultfd handler
    // that never answers: the worker's deadline turns that into Stalled.
    let mut worker = MemoryWorker::new(Arc::clone(&target), DEADLINE);

    let outcomes = worker
        .read(&maps, &[(uffd, page as usize)], ReadMode::NoWait)
        .expect("nowait read of the missing page");
    assert_eq!(outcomes[0].first_unread(), Some(Unread::NotResident), "{:?}", outcomes[0].gaps);
    assert_eq!(outcomes[0].gaps.len(), 1);
    assert_eq!((outcomes[0].gaps[0].addr, outcomes[0].gaps[0].len), (uffd, page));

    // Resident page then missing page in one range: the kernel stops short
    // at the missing page; the resident bytes still arrive.
    let outcomes = worker
        .read(&maps, &[(span, 2 * page as usize)], ReadMode::NoWait)
        .expect("nowait read across resident and missing pages");
    let outcome = &outcomes[0];
    assert!(outcome.data[..page as usize].iter().all(|&b| b == 0x5a), "resident page not read");
    assert_eq!(outcome.unread_at(span), None);
    assert_eq!(outcome.unread_at(uffd), Some(Unread::NotResident));
    assert_eq!(outcome.unread_at(uffd + page - 1), Some(Unread::NotResident));

    // Both give EFAULT; only the maps tell the hole apart.
    let outcomes = worker
        .read(&maps, &[(hole, 8)], ReadMode::NoWait)
        .expect("nowait read of a hole");
    assert_eq!(outcomes[0].first_unread(), Some(Unread::Unmapped));
}

#[test]
fn untouched_anonymous_page_reads_as_zeros_under_nowait() {
    let fx = spawn_native();
    let target = Target::attach(fx.pid).expect("attach");
    if !native("untouched_anonymous_page_reads_as_zeros_under_nowait", &target, false, true) {
        return;
    }
    let page = fx.number("page") as usize;
    let maps = target.maps().expect("maps");
    let outcomes = target
        .read(&maps, &[(fx.addr("anon"), page)], ReadMode::NoWait)
        .expect("nowait read of an untouched page");
    let bytes = outcomes[0]
        .bytes()
        .unwrap_or_else(|| panic!("untouched page not read: {:?}", outcomes[0].gaps));
    assert!(bytes.iter().all(|&b| b == 0));
}

#[test]
fn writes_through_the_pidfd_land_in_the_target() {
    let mut fx = spawn_native();
    let target = Target::attach(fx.pid).expect("attach");
    if !native("writes_through_the_pidfd_land_in_the_target", &target, true, false) {
        return;
    }
    let maps = target.maps().expect("maps");
    let value = fx.addr("value");
    let report = target.write(&maps, value, b"written-by-pidfd").expect("write");
    assert!(report.landed(), "{report:?}");
    assert_eq!(report.before, b"pvtui-native-ok!");
    // The target's own view, not just our read-back.
    fx.send("show");
    let line = fx.expect_line("value_bytes=");
    assert_eq!(line, format!("value_bytes={}", hex(b"written-by-pidfd")));
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
