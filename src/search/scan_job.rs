//! Value-scan jobs: a first scan for a value, an unknown-value snapshot,
//! and narrowing a saved scan, each on its own thread like a search.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{RecvTimeoutError, SyncSender, sync_channel};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::process::Region;
use crate::search::history::{forget, keep_previous};
use crate::search::identity::ProcessIdentity;
use crate::search::job::{
    End, STREAMED_PLACES, SearchEvent, SearchJob, SearchOptions, SearchPlan, Summary,
    failed_summary, progress_ticker, send_or_cancel, summarize, walk_all,
};
use crate::search::records::{PageRecordOut, SNAP_PAGE};
use crate::search::scan::{ScanSpec, ScanVisitor, narrow};
use crate::search::snapshot::SnapshotVisitor;
use crate::search::source::Source;
use crate::search::store::{BlockBuf, ScanFile, ScanHeader, ScanWriter};
use crate::search::value::{Condition, ValueType};
use crate::search::walk::{Control, Geometry, Piece, Visitor};

impl SearchJob {
    /// A first value scan of any [`Source`]: the places holding the value
    /// go to `save` (or a temporary file) and come back in [`Summary::scan`].
    pub fn scan_in<S, F>(
        make_source: F,
        pid: i32,
        regions: &[Region],
        spec: ScanSpec,
        save: Option<&Path>,
        options: SearchOptions,
    ) -> Result<SearchJob>
    where
        S: Source + 'static,
        F: FnMut() -> S,
    {
        if spec.condition.needs_previous() {
            return Err(Error::Usage(
                "a first scan needs a value or a range: changed/increased/... compare with a previous scan (--from FILE)".into(),
            ));
        }
        SearchJob::first_in(
            make_source,
            pid,
            regions,
            FirstPass::Values(spec),
            save,
            options,
        )
    }

    /// An unknown-value scan of any [`Source`]: a snapshot of every page,
    /// which the first narrowing compares with memory then. Goes to `save`
    /// or a temporary file.
    pub fn snapshot_in<S, F>(
        make_source: F,
        pid: i32,
        regions: &[Region],
        ty: ValueType,
        save: Option<&Path>,
        options: SearchOptions,
    ) -> Result<SearchJob>
    where
        S: Source + 'static,
        F: FnMut() -> S,
    {
        SearchJob::first_in(
            make_source,
            pid,
            regions,
            FirstPass::Snapshot(ty),
            save,
            options,
        )
    }

    fn first_in<S, F>(
        make_source: F,
        pid: i32,
        regions: &[Region],
        pass: FirstPass,
        save: Option<&Path>,
        options: SearchOptions,
    ) -> Result<SearchJob>
    where
        S: Source + 'static,
        F: FnMut() -> S,
    {
        let mut geometry = options.geometry;
        let (ty, aligned, tolerance) = match pass {
            FirstPass::Values(spec) => {
                geometry.chunk = geometry.chunk.max(1);
                // A value crossing a chunk edge must be whole in the window owning its start.
                geometry.overlap = spec.ty.size() - 1;
                (spec.ty, spec.aligned, spec.tolerance)
            }
            FirstPass::Snapshot(ty) => {
                // Windows of whole pages: a snapshot keeps pages, and aligned
                // values never cross one.
                geometry.chunk = geometry.chunk.max(1).next_multiple_of(SNAP_PAGE);
                geometry.overlap = 0;
                (ty, true, 0.0)
            }
        };
        let plan = SearchPlan::new(regions, &options.regions, &geometry);
        let mut writer = ScanWriter::create(
            save,
            ScanHeader {
                pid,
                ty,
                aligned,
                tolerance,
                count: 0,
                scans: 1,
                identity: ProcessIdentity::of(pid).unwrap_or_default(),
            },
        )?;
        let sources: Vec<S> = std::iter::repeat_with(make_source)
            .take(options.lane_count())
            .collect();
        let fresh = save.map(Path::to_path_buf);
        Ok(SearchJob::spawn(move |tx, ctl| {
            if matches!(pass, FirstPass::Values(_)) {
                stream_places(&mut writer, tx, ctl);
            }
            let summary = run_first(sources, plan, pass, geometry, writer, tx, ctl);
            // A new first scan: earlier steps of an older scan in that file go.
            if let (Some(path), Some(_)) = (&fresh, &summary.scan) {
                forget(path);
            }
            summary
        }))
    }

    /// Narrows a previous scan over any [`Source`]: re-reads its
    /// candidates and keeps those `condition` holds for. The result goes to `save`
    /// (which may be `from`'s own path: it is replaced when done) or a
    /// temporary file.
    pub fn narrow_in<S: Source + 'static>(
        source: S,
        from: ScanFile,
        condition: Condition,
        save: Option<&Path>,
    ) -> Result<SearchJob> {
        let mut header = *from.header();
        header.scans += 1;
        // The writer stages beside `save` and renames at the end, so
        // narrowing a file into itself never reads what it is writing.
        let mut writer = ScanWriter::create(save, header)?;
        Ok(SearchJob::spawn(move |tx, ctl| {
            stream_places(&mut writer, tx, ctl);
            run_narrow(source, from, condition, writer, tx, ctl)
        }))
    }
}

/// Sends the first places the job writes as [`SearchEvent::Places`].
fn stream_places(writer: &mut ScanWriter, tx: &SyncSender<SearchEvent>, ctl: &Control) {
    let (tx, cancel) = (tx.clone(), std::sync::Arc::clone(&ctl.cancel));
    writer.tap(
        STREAMED_PLACES,
        Box::new(move |places| {
            send_or_cancel(&tx, SearchEvent::Places(places), &cancel);
        }),
    );
}

/// What a first pass over memory keeps.
#[derive(Clone, Copy, Debug)]
enum FirstPass {
    /// Places holding a value or a range.
    Values(ScanSpec),
    /// Every page, for an unknown-value scan of this type.
    Snapshot(ValueType),
}

/// What lanes hand the writer.
enum Output {
    Places(BlockBuf),
    Pages(Vec<PageRecordOut>),
}

enum FirstVisitor<'a> {
    Values(ScanVisitor<'a>),
    Snapshot(SnapshotVisitor<'a>),
}

impl FirstVisitor<'_> {
    fn finish(&mut self) {
        match self {
            FirstVisitor::Values(v) => v.finish(),
            FirstVisitor::Snapshot(v) => v.finish(),
        }
    }
}

impl Visitor for FirstVisitor<'_> {
    fn start_segment(&mut self) {
        match self {
            FirstVisitor::Values(v) => v.start_segment(),
            FirstVisitor::Snapshot(v) => v.start_segment(),
        }
    }

    fn piece(&mut self, piece: &Piece<'_>) {
        match self {
            FirstVisitor::Values(v) => v.piece(piece),
            FirstVisitor::Snapshot(v) => v.piece(piece),
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn run_first<S: Source>(
    mut sources: Vec<S>,
    plan: SearchPlan,
    pass: FirstPass,
    geometry: Geometry,
    mut writer: ScanWriter,
    tx: &SyncSender<SearchEvent>,
    ctl: &Control,
) -> Summary {
    let started = Instant::now();
    let found = AtomicU64::new(0);
    // Shallow: a block of densely matching places can weigh 640 KiB, and a
    // batch of snapshot records 1 MiB.
    let (block_tx, block_rx) = sync_channel::<Output>(8);
    let write_error: Mutex<Option<Error>> = Mutex::new(None);
    // A full channel waits for the writer, which drains it until every lane
    // has ended (stopped or not), so the wait always ends. Waiting in the
    // channel wakes the lane as soon as there is room: a snapshot's lanes
    // outrun the file, and polling with sleeps let them idle between writes.
    let send = |out: Output| {
        if ctl.should_stop() {
            return false;
        }
        block_tx.send(out).is_ok()
    };
    let place_sink = |block: BlockBuf| send(Output::Places(block));
    let page_sink = |pages: Vec<PageRecordOut>| send(Output::Pages(pages));
    let mut visitors: Vec<FirstVisitor<'_>> = (0..sources.len())
        .map(|_| match pass {
            FirstPass::Values(spec) => {
                FirstVisitor::Values(ScanVisitor::new(spec, &found, &ctl.stop, &place_sink))
            }
            FirstPass::Snapshot(ty) => {
                FirstVisitor::Snapshot(SnapshotVisitor::new(ty, &found, &ctl.stop, &page_sink))
            }
        })
        .collect();
    let mut tick = progress_ticker(tx, plan.total, started);
    let write = |out: Output, writer: &mut ScanWriter| {
        let done = match out {
            Output::Places(block) => writer.write_block(&block),
            Output::Pages(pages) => pages.iter().try_for_each(|p| writer.write_pages(p)),
        };
        if let Err(e) = done {
            write_error
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get_or_insert(e);
            ctl.stop.store(true, Ordering::Relaxed);
        }
    };
    let skipped = walk_all(
        &mut sources,
        &mut visitors,
        &plan,
        &geometry,
        ctl,
        &|v: &mut FirstVisitor<'_>| v.finish(),
        &mut || {
            match block_rx.recv_timeout(Duration::from_millis(10)) {
                Ok(out) => write(out, &mut writer),
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {}
            }
            tick(&ctl.covered);
        },
    );
    drop(visitors);
    while let Ok(out) = block_rx.try_recv() {
        write(out, &mut writer);
    }
    let count = writer.count();
    let mut summary = summarize(&plan, ctl, count, skipped, started, false);
    if let Some(err) = write_error.lock().unwrap_or_else(|e| e.into_inner()).take() {
        // Dropping the writer removes its unfinished file.
        summary.end = End::Failed(err.to_string());
        return summary;
    }
    match writer.finish() {
        Ok(file) => summary.scan = Some(file),
        Err(err) => summary.end = End::Failed(err.to_string()),
    }
    summary
}

fn run_narrow<S: Source>(
    mut source: S,
    from: ScanFile,
    condition: Condition,
    mut writer: ScanWriter,
    tx: &SyncSender<SearchEvent>,
    ctl: &Control,
) -> Summary {
    let started = Instant::now();
    let total = from.count();
    let done = AtomicU64::new(0);
    // Progress ticks come from a second thread: narrowing runs on this one.
    let finished = AtomicBool::new(false);
    let outcome = std::thread::scope(|scope| {
        scope.spawn(|| {
            let mut tick = progress_ticker(tx, total, started);
            while !finished.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(10));
                tick(&done);
            }
        });
        // Set on the way out even by a panic, so the ticker (and the scope) ends.
        let _finished = SetOnDrop(&finished);
        narrow(
            &mut source,
            &from,
            condition,
            &mut writer,
            &|| ctl.should_stop(),
            &done,
        )
    });
    let mut summary = failed_summary("");
    summary.total = total;
    summary.done = done.load(Ordering::Relaxed);
    summary.elapsed = started.elapsed();
    summary.end = if ctl.cancelled() {
        End::Cancelled
    } else {
        End::Complete
    };
    match outcome {
        Ok((stats, failure)) => {
            summary.narrow = Some(stats);
            if let Some(err) = failure {
                if err.is_exit() {
                    // Nothing more can be learnt from a process that is gone:
                    // the file stays as it was (dropping the writer removes its
                    // unfinished output).
                    summary.end = End::Failed(format!(
                        "{err}: {} was left as it was",
                        from.path().display()
                    ));
                    return summary;
                }
                summary.end = End::Failed(format!(
                    "{err}; the {} candidates not yet checked are kept unchanged",
                    stats.unchecked
                ));
            }
            if stats.unreadable > 0 {
                summary.notes.push(format!(
                    "{} candidates could not be read and were dropped",
                    stats.unreadable
                ));
            }
            if stats.not_resident > 0 {
                summary.notes.push(format!(
                    "{} candidates are not in memory now and were kept with their last value",
                    stats.not_resident
                ));
            }
        }
        Err(err) => {
            // The input could not be read through: keep the old file as it was.
            summary.end = End::Failed(err.to_string());
            return summary;
        }
    }
    summary.found = writer.count();
    if let Some(dest) = writer.dest()
        && let Err(err) = keep_previous(from.path(), dest)
    {
        summary.notes.push(format!(
            "the previous step could not be kept for undo: {err}"
        ));
    }
    drop(from);
    match writer.finish() {
        Ok(file) => summary.scan = Some(file),
        Err(err) => summary.end = End::Failed(err.to_string()),
    }
    summary
}

/// Sets its flag when dropped.
struct SetOnDrop<'a>(&'a AtomicBool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}
