//! Tests of the raw kernel interface against this process itself.

use super::*;

#[test]
fn reads_own_memory_through_raw_syscall() {
    let source = *b"pvtui raw syscall";
    let mut dest = [0u8; 17];
    let remote = [RemoteRange {
        addr: source.as_ptr() as u64,
        len: source.len(),
    }];
    let n = process_vm_readv(
        std::process::id() as i32,
        &mut [IoSliceMut::new(&mut dest)],
        &remote,
        0,
    )
    .expect("read own memory");
    assert_eq!(n, source.len());
    assert_eq!(dest, source);
}

#[test]
fn unknown_flag_is_reported_unsupported() {
    // Bit 40 is not defined by any kernel, patched or not.
    assert!(!process_vm_flag_supported(1 << 40).expect("probe"));
}

#[test]
#[allow(clippy::print_stderr)] // the test harness's stderr, to say why it skipped
fn a_breakpoint_on_our_own_thread_samples_each_write() {
    let mut watched = Box::new(0u64);
    let addr = std::ptr::addr_of_mut!(*watched) as u64;
    let bp = Breakpoint {
        addr,
        len: 8,
        access: HW_BREAKPOINT_W,
    };
    let tid = nix::unistd::gettid().as_raw();
    let mut event = match PerfBreakpoint::open(tid, bp, 1) {
        Ok(event) => event,
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::ENOENT | libc::EOPNOTSUPP | libc::ENODEV)
            ) =>
        {
            eprintln!("SKIPPED: no hardware breakpoints on this machine ({e})");
            return;
        }
        Err(e) => panic!("perf_event_open: {e}"),
    };
    for i in 1..=5u64 {
        // black_box keeps each store: the compiler may not merge them.
        std::hint::black_box(&mut *watched);
        *watched = i;
        std::hint::black_box(&mut *watched);
    }
    let mut samples = Vec::new();
    event.drain(|r| samples.push(r));
    let tids: Vec<u32> = samples
        .iter()
        .filter_map(|r| match r {
            PerfRecord::Sample { tid, .. } => Some(*tid),
            PerfRecord::Lost { .. } => None,
        })
        .collect();
    assert_eq!(tids.len(), 5, "{samples:?}");
    assert!(tids.iter().all(|&t| t == tid as u32));
    // Drained: nothing is read twice.
    let mut again = Vec::new();
    event.drain(|r| again.push(r));
    assert!(again.is_empty());
}

#[test]
fn too_many_iovecs_is_refused_before_the_kernel() {
    let remote = vec![RemoteRange { addr: 0, len: 0 }; IOV_MAX + 1];
    let err = process_vm_readv(std::process::id() as i32, &mut [], &remote, 0)
        .expect_err("more than IOV_MAX");
    assert_eq!(err.raw_os_error(), Some(libc::EINVAL));
}
