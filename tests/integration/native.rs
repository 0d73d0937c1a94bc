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
use pvtui::process::{Memory, MemoryWorker, ReadMode, Target, Unread};

use crate::util::{Fixture, fixture, skip_unless_root};

/// Long enough for a slow, software-emulated VM: a read that would block is
/// abandoned after this and reported `Stalled`, which the tests reject.
const DEADLINE: Duration = Duration::from_secs(15);

const PAGE: u64 = 4096;

/// The engine's target (`tests/fixtures/target.c`).
fn spawn_target() -> Fixture {
    Fixture::spawn(&fixture("target", "", &[]), &[])
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
    let test = "reading_a_reaped_target_through_its_pidfd_reports_target_exited";
    let mut fx = spawn_target();
    let target = Target::attach(fx.pid).expect("attach");
    if !native(test, &target, true, false) {
        return;
    }
    let maps = target.maps().expect("maps");
    let value = fx.addr("value");
    let alive = target
        .read(&maps, &[(value, 8)], ReadMode::Force)
        .expect("read while alive");
    assert_eq!(alive[0].bytes(), Some(&42u64.to_ne_bytes()[..]));

    // Reaped, not just dead: the pid is free for reuse and only the pidfd
    // still names the old process; the kernel answers ESRCH through it.
    fx.kill();
    for mode in [ReadMode::Force, ReadMode::NoWait] {
        match target.read(&maps, &[(value, 8)], mode) {
            Err(Error::TargetExited { pid }) => assert_eq!(pid, fx.pid),
            other => panic!("{mode:?} read of a reaped target gave {other:?}, not TargetExited"),
        }
    }
}

#[test]
fn nowait_on_a_userfaultfd_missing_page_is_not_resident_not_unmapped() {
    let test = "nowait_on_a_userfaultfd_missing_page_is_not_resident_not_unmapped";
    let fx = spawn_target();
    let target = Arc::new(Target::attach(fx.pid).expect("attach"));
    if !native(test, &target, false, true) {
        return;
    }
    if fx.var("uffd").starts_with("unavailable") {
        if skip_unless_root(test, "the fixture needs a userfaultfd") {
            return;
        }
        panic!("root could not create a userfaultfd: {}", fx.var("uffd"));
    }
    let present = fx.addr("uffd_present");
    let missing = fx.addr("uffd");
    let hole = fx.addr("hole") + PAGE;
    let maps = target.maps().expect("maps");
    // A blocking read of the missing page would wait for a userfaultfd handler
    // that never answers: the worker's deadline would turn that into Stalled.
    let mut worker = MemoryWorker::new(Arc::clone(&target), DEADLINE);

    let out = worker
        .read(&maps, &[(missing, PAGE as usize)], ReadMode::NoWait)
        .expect("nowait read of the missing page");
    assert_eq!(out[0].gaps.len(), 1, "{:?}", out[0].gaps);
    let gap = out[0].gaps[0];
    assert_eq!(
        (gap.addr, gap.len, gap.why),
        (missing, PAGE, Unread::NotResident)
    );

    // Resident page then missing page in one range: the kernel stops short
    // at the missing page; the resident bytes still arrive.
    let out = worker
        .read(&maps, &[(present, 2 * PAGE as usize)], ReadMode::NoWait)
        .expect("nowait read across a resident and a missing page");
    assert!(out[0].data[..PAGE as usize].iter().all(|&b| b == 0xcc));
    assert_eq!(out[0].unread_at(present), None);
    assert_eq!(out[0].unread_at(present + PAGE - 1), None);
    assert_eq!(out[0].unread_at(missing), Some(Unread::NotResident));
    assert_eq!(
        out[0].unread_at(missing + PAGE - 1),
        Some(Unread::NotResident)
    );

    // The kernel gives EFAULT for both; only the maps tell a hole apart.
    let out = worker
        .read(&maps, &[(hole, 8)], ReadMode::NoWait)
        .expect("nowait read of a hole");
    assert_eq!(out[0].first_unread(), Some(Unread::Unmapped));
    assert_eq!(worker.stalls(), 0, "a NOWAIT read blocked");
}

#[test]
fn untouched_anonymous_page_reads_as_zeros_under_nowait() {
    let test = "untouched_anonymous_page_reads_as_zeros_under_nowait";
    let fx = spawn_target();
    let target = Target::attach(fx.pid).expect("attach");
    if !native(test, &target, false, true) {
        return;
    }
    let maps = target.maps().expect("maps");
    let out = target
        .read(&maps, &[(fx.addr("anon"), PAGE as usize)], ReadMode::NoWait)
        .expect("nowait read of an untouched page");
    let bytes = out[0]
        .bytes()
        .unwrap_or_else(|| panic!("untouched page not read: {:?}", out[0].gaps));
    assert!(bytes.iter().all(|&b| b == 0));
}

#[test]
fn writes_through_the_pidfd_land_in_the_target() {
    let test = "writes_through_the_pidfd_land_in_the_target";
    let mut fx = spawn_target();
    let target = Target::attach(fx.pid).expect("attach");
    if !native(test, &target, true, false) {
        return;
    }
    let maps = target.maps().expect("maps");
    let value = fx.addr("value");
    let report = target
        .write(&maps, value, &4242u64.to_ne_bytes())
        .expect("write");
    assert!(report.landed(), "{report:?}");
    assert_eq!(report.before, 42u64.to_ne_bytes());
    // The target's own view, not just our read-back.
    assert_eq!(fx.expect_line("changed value="), "changed value=4242");
}
