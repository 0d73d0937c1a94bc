//! The UI's state and how each event changes it. Nothing here touches the
//! target: reads and writes are commands to the poller, answered by events.

use std::collections::{HashMap, VecDeque};
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant, SystemTime};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};

use crate::expr::{Status, Type, Value, Watch, parse_watch};
use crate::poller::{Command, Evaluated, ExprError, PollerEvent, Snapshot, WatchId};
use crate::process::{Access, Maps, ReadOutcome, WriteReport};
use crate::tui::event::Event;
use crate::tui::input::{Input, Purpose};
use crate::tui::keys::{Action, KeyMap};
use crate::tui::search::{Request, SearchState, Searcher, parse_request};
use crate::tui::theme::Theme;

/// How many values a watch keeps for its sparkline and chart.
pub const HISTORY: usize = 240;
/// Bytes per hex row.
pub const HEX_COLS: u64 = 16;
/// How long a changed value stays highlighted.
const HIGHLIGHT_FOR: Duration = Duration::from_millis(1500);
/// Target output lines kept.
const OUTPUT_LINES: usize = 500;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pane {
    Watches,
    Maps,
    Hex,
    Search,
    Log,
    Output,
}

impl Pane {
    pub const ALL: [Pane; 6] = [
        Pane::Watches,
        Pane::Maps,
        Pane::Hex,
        Pane::Search,
        Pane::Log,
        Pane::Output,
    ];

    /// The action that opens this pane.
    pub fn action(self) -> Action {
        match self {
            Pane::Watches => Action::Watches,
            Pane::Maps => Action::Maps,
            Pane::Hex => Action::Hex,
            Pane::Search => Action::Search,
            Pane::Log => Action::Log,
            Pane::Output => Action::Output,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Pane::Watches => "Watches",
            Pane::Maps => "Maps",
            Pane::Hex => "Hex",
            Pane::Search => "Search",
            Pane::Log => "Write log",
            Pane::Output => "Output",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetState {
    Running,
    /// Exited; how, when we know (a target we spawned).
    Exited(Option<String>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Info,
    Warning,
    Error,
}

/// One watch as the UI shows it.
#[derive(Clone, Debug)]
pub struct WatchRow {
    pub id: WatchId,
    /// As the user typed it.
    pub expr: String,
    pub watch: Watch,
    /// The type read: the watch's own or its symbol's; known after the first reading.
    pub ty: Option<Type>,
    pub addr: Option<u64>,
    pub value: Option<Value>,
    pub status: Option<Status>,
    /// When the value last changed, for the highlight.
    pub changed_at: Option<Instant>,
    pub history: VecDeque<f64>,
    /// Where and what a freeze holds.
    pub frozen: Option<(u64, Vec<u8>)>,
    pub freeze_error: Option<String>,
}

impl WatchRow {
    pub fn value_text(&self) -> Option<String> {
        self.value.as_ref().map(Value::to_string)
    }
}

/// One line of the write log.
#[derive(Clone, Debug)]
pub struct LogEntry {
    pub time: SystemTime,
    pub what: &'static str,
    pub addr: u64,
    pub expr: String,
    pub old: String,
    pub new: String,
    pub result: String,
    pub ok: bool,
}

#[derive(Clone, Debug)]
struct PendingWrite {
    what: &'static str,
    expr: String,
    ty: Option<Type>,
}

/// A write that can be undone: where, and the bytes that were there.
#[derive(Clone, Debug)]
struct Undo {
    addr: u64,
    before: Vec<u8>,
    expr: String,
    ty: Option<Type>,
}

#[derive(Clone, Debug, Default)]
pub struct HexState {
    /// The first byte shown.
    pub base: u64,
    pub cursor: u64,
    pub data: Option<ReadOutcome>,
    /// Address → when its byte last changed.
    pub changed: HashMap<u64, Instant>,
    /// Where `p` followed from, for backspace.
    pub back: Vec<u64>,
}

#[derive(Clone, Debug, Default)]
pub struct MapsState {
    pub maps: Maps,
    pub filter: String,
    pub selected: usize,
    /// Region start → resident bytes.
    pub residency: HashMap<u64, u64>,
}

impl MapsState {
    /// Indices of the regions the filter lets through.
    pub fn visible(&self) -> Vec<usize> {
        let needle = self.filter.to_lowercase();
        self.maps
            .regions()
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                needle.is_empty()
                    || r.path.to_lowercase().contains(&needle)
                    || r.perms.to_string().contains(&needle)
                    || format!("{:x}", r.start).contains(needle.trim_start_matches("0x"))
            })
            .map(|(i, _)| i)
            .collect()
    }
}

/// What the UI was started with.
#[derive(Clone, Debug)]
pub struct AppOptions {
    pub pid: i32,
    pub name: String,
    pub access: Access,
    pub interval: Duration,
    pub theme: Theme,
    pub keys: KeyMap,
    /// Whether the target was spawned by us (its output and exit status are ours to show).
    pub spawned: bool,
}

pub struct App {
    pub pid: i32,
    pub name: String,
    pub access: Access,
    pub state: TargetState,
    pub theme: Theme,
    pub keys: KeyMap,
    pub spawned: bool,
    pub pane: Pane,
    pub help: bool,
    pub chart: Option<WatchId>,
    pub input: Option<Input>,
    pub watches: Vec<WatchRow>,
    pub selected: usize,
    pub maps: MapsState,
    pub hex: HexState,
    pub log: Vec<LogEntry>,
    pub log_selected: usize,
    pub output: VecDeque<String>,
    pub message: Option<(Level, String)>,
    pub interval: Duration,
    pub paused: bool,
    pub tick: u64,
    pub lateness: Duration,
    pub took: Duration,
    /// The terminal's size, for paging and mouse hits.
    pub size: (u16, u16),
    pub quit: bool,
    /// The signal that asked to quit, for the exit status.
    pub quit_signal: Option<nix::sys::signal::Signal>,
    /// Input-to-frame latency samples, filled by the loop.
    pub latencies: VecDeque<Duration>,
    pub search: SearchState,
    /// Starts search jobs; absent where no target is attached (unit tests).
    pub searcher: Option<Searcher>,
    commands: Sender<Command>,
    next_id: u64,
    next_tag: u64,
    pending: HashMap<u64, PendingWrite>,
    undo: Vec<Undo>,
    /// The evaluation the input line waits for (as-you-type checks, go to).
    input_tag: Option<u64>,
    /// A go-to waiting for its address.
    pending_goto: Option<u64>,
    /// A save waiting for the portable watch list: tag and path.
    pending_save: Option<(u64, String)>,
}

impl App {
    pub fn new(options: AppOptions, commands: Sender<Command>) -> App {
        App {
            pid: options.pid,
            name: options.name,
            access: options.access,
            state: TargetState::Running,
            theme: options.theme,
            keys: options.keys,
            spawned: options.spawned,
            pane: Pane::Watches,
            help: false,
            chart: None,
            input: None,
            watches: Vec::new(),
            selected: 0,
            maps: MapsState::default(),
            hex: HexState::default(),
            log: Vec::new(),
            log_selected: 0,
            output: VecDeque::new(),
            message: None,
            interval: options.interval,
            paused: false,
            tick: 0,
            lateness: Duration::ZERO,
            took: Duration::ZERO,
            size: (80, 24),
            quit: false,
            quit_signal: None,
            latencies: VecDeque::new(),
            search: SearchState::default(),
            searcher: None,
            commands,
            next_id: 1,
            next_tag: 1,
            pending: HashMap::new(),
            undo: Vec::new(),
            input_tag: None,
            pending_goto: None,
            pending_save: None,
        }
    }

    pub fn exited(&self) -> bool {
        matches!(self.state, TargetState::Exited(_))
    }

    fn send(&mut self, command: Command) {
        if self.commands.send(command).is_err() && !self.exited() {
            self.say(Level::Error, "the poller has stopped");
        }
    }

    pub fn say(&mut self, level: Level, text: impl Into<String>) {
        self.message = Some((level, text.into()));
    }

    /// Adds a watch from its expression; the error says what is wrong with it.
    pub fn add_watch(&mut self, expr: &str) -> Result<(), ExprError> {
        self.push_watch(expr)?;
        self.sync_watches();
        Ok(())
    }

    /// Adds a watch to the list without telling the poller yet.
    fn push_watch(&mut self, expr: &str) -> Result<(), ExprError> {
        let watch = parse_watch(expr.trim()).map_err(|e| ExprError {
            column: e.column + (expr.len() - expr.trim_start().len()),
            message: e.message,
        })?;
        let id = WatchId(self.next_id);
        self.next_id += 1;
        self.watches.push(WatchRow {
            id,
            expr: expr.trim().to_string(),
            ty: watch.ty.clone(),
            watch,
            addr: None,
            value: None,
            status: None,
            changed_at: None,
            history: VecDeque::new(),
            frozen: None,
            freeze_error: None,
        });
        self.selected = self.watches.len() - 1;
        Ok(())
    }

    /// Adds the watches given at start, in one update of the poller's list;
    /// those that do not parse are reported.
    pub fn queue_watches(&mut self, exprs: Vec<String>) {
        for expr in exprs {
            if let Err(e) = self.push_watch(&expr) {
                self.say(Level::Error, format!("watch {expr:?}: {}", e.message));
            }
        }
        self.selected = 0;
        self.sync_watches();
    }

    fn sync_watches(&mut self) {
        let watches = self
            .watches
            .iter()
            .map(|w| (w.id, w.watch.clone()))
            .collect();
        self.send(Command::SetWatches(watches));
    }

    /// Rows of the body area (the pane's content), for paging.
    pub fn body_rows(&self) -> usize {
        crate::tui::view::body_rows(self.size)
    }

    /// The hex range the view shows, requested from the poller.
    fn hex_range(&self) -> (u64, usize) {
        let rows = self.body_rows().max(1) as u64;
        (self.hex.base, (rows * HEX_COLS) as usize)
    }

    fn request_hex(&mut self) {
        let range = (self.pane == Pane::Hex && !self.exited()).then(|| self.hex_range());
        self.send(Command::HexRange(range));
    }

    /// Opens `addr` in the hex view, the cursor on it.
    pub fn open_hex(&mut self, addr: u64) {
        self.hex.cursor = addr;
        self.hex.base = addr - addr % HEX_COLS;
        self.hex.data = None;
        self.hex.changed.clear();
        self.set_pane(Pane::Hex);
    }

    pub fn set_pane(&mut self, pane: Pane) {
        self.pane = pane;
        self.send(Command::WantResidency(pane == Pane::Maps));
        self.request_hex();
    }

    /// Handles one event.
    pub fn update(&mut self, event: Event) {
        match event {
            Event::Key(key, _) => self.key(key),
            Event::Mouse(mouse) => self.mouse(mouse),
            Event::Resize(w, h) => {
                self.size = (w, h);
                self.request_hex();
            }
            Event::Poller(event) => self.poller(event),
            Event::TargetOutput(line) => {
                if self.output.len() == OUTPUT_LINES {
                    self.output.pop_front();
                }
                self.output.push_back(line);
            }
            Event::TargetEnded(how) => {
                self.state = TargetState::Exited(Some(how));
                self.input = None;
            }
            Event::Search(seq, event) => self.search.update(seq, event, &self.maps.maps),
            Event::Signal(signal) => {
                self.say(Level::Info, format!("{}: quitting", signal.as_str()));
                self.quit_signal = Some(signal);
                self.quit = true;
            }
        }
    }

    fn poller(&mut self, event: PollerEvent) {
        match event {
            PollerEvent::Snapshot(snapshot) => self.snapshot(*snapshot),
            PollerEvent::Wrote { tag, result } => self.wrote(tag, result),
            PollerEvent::Exited => {
                if !self.exited() {
                    self.state = TargetState::Exited(None);
                }
                for w in &mut self.watches {
                    w.frozen = None;
                }
                self.input_tag = None;
                if let Some(c) = self.search.running.take() {
                    c.cancel();
                }
                if matches!(self.input.as_ref().map(|i| &i.purpose), Some(p) if p.writes()) {
                    self.input = None;
                }
                self.say(
                    Level::Warning,
                    "the target exited: last values kept, editing disabled",
                );
            }
            PollerEvent::Warning(text) => self.say(Level::Warning, text),
            PollerEvent::Frozen { watch, result } => self.frozen(watch, result),
            PollerEvent::Evaluated { tag, result } => self.evaluated(tag, result),
            PollerEvent::Portable { tag, lines } => {
                if let Some((want, path)) = self.pending_save.take() {
                    if want == tag {
                        self.save_watches(&path, &lines);
                    } else {
                        self.pending_save = Some((want, path));
                    }
                }
            }
        }
    }

    fn snapshot(&mut self, s: Snapshot) {
        let now = Instant::now();
        self.tick = s.tick;
        self.lateness = s.lateness;
        self.took = s.took;
        if let Some(maps) = s.maps {
            self.maps.maps = maps;
            let n = self.maps.visible().len();
            self.maps.selected = self.maps.selected.min(n.saturating_sub(1));
        }
        if let Some(residency) = s.residency {
            self.maps.residency = residency;
        }
        for (id, err) in s.freeze_errors {
            if let Some(w) = self.watches.iter_mut().find(|w| w.id == id) {
                w.freeze_error = Some(err);
            }
        }
        for (i, reading) in s.watches.into_iter().enumerate() {
            // Readings come in watch order, unless the list changed meanwhile.
            let at = match self.watches.get(i) {
                Some(w) if w.id == reading.id => Some(i),
                _ => self.watches.iter().position(|w| w.id == reading.id),
            };
            let Some(w) = at.and_then(|i| self.watches.get_mut(i)) else {
                continue;
            };
            w.addr = reading.address;
            w.ty = Some(reading.ty);
            if reading.status == Status::Changed {
                w.changed_at = Some(now);
            }
            if let Some(x) = reading
                .value
                .as_ref()
                .and_then(Value::as_f64)
                .filter(|x| x.is_finite())
            {
                if w.history.len() == HISTORY {
                    w.history.pop_front();
                }
                w.history.push_back(x);
            }
            // Never a stale number for a value that was not read.
            w.value = reading.value;
            w.status = Some(reading.status);
        }
        if let Some(hex) = s.hex {
            if let Some(old) = &self.hex.data {
                for (i, (a, b)) in old.data.iter().zip(&hex.data).enumerate() {
                    let addr = hex.addr + i as u64;
                    if old.addr == hex.addr
                        && a != b
                        && old.unread_at(addr).is_none()
                        && hex.unread_at(addr).is_none()
                    {
                        self.hex.changed.insert(addr, now);
                    }
                }
            }
            self.hex
                .changed
                .retain(|_, t| now.duration_since(*t) < HIGHLIGHT_FOR);
            self.hex.data = Some(hex);
        }
    }

    /// Whether a change at `at` is still highlighted.
    pub fn highlighted(at: Option<Instant>) -> bool {
        at.is_some_and(|t| t.elapsed() < HIGHLIGHT_FOR)
    }

    fn wrote(&mut self, tag: u64, result: Result<WriteReport, String>) {
        let Some(pending) = self.pending.remove(&tag) else {
            return;
        };
        let show = |bytes: &[u8]| show(pending.ty.as_ref(), bytes);
        let entry = match &result {
            Ok(report) => {
                let landed = report.landed();
                let outcome = if landed {
                    "landed".to_string()
                } else if report.written == 0 {
                    "refused: nothing was written".to_string()
                } else if report.written < report.requested.len() {
                    format!(
                        "partial: {} of {} bytes",
                        report.written,
                        report.requested.len()
                    )
                } else {
                    "written, but reads back different (the target changed it?)".to_string()
                };
                if pending.what != "undo" && report.written > 0 {
                    self.undo.push(Undo {
                        addr: report.addr,
                        before: report.before.clone(),
                        expr: pending.expr.clone(),
                        ty: pending.ty.clone(),
                    });
                }
                LogEntry {
                    time: SystemTime::now(),
                    what: pending.what,
                    addr: report.addr,
                    expr: pending.expr.clone(),
                    old: show(&report.before),
                    new: show(&report.requested),
                    result: outcome,
                    ok: landed,
                }
            }
            Err(why) => LogEntry {
                time: SystemTime::now(),
                what: pending.what,
                addr: 0,
                expr: pending.expr.clone(),
                old: String::new(),
                new: String::new(),
                result: format!("refused: {why}"),
                ok: false,
            },
        };
        let level = if entry.ok { Level::Info } else { Level::Error };
        self.say(
            level,
            format!(
                "{} {}: {} → {}: {}",
                entry.what, entry.expr, entry.old, entry.new, entry.result
            ),
        );
        self.push_log(entry);
    }

    fn push_log(&mut self, entry: LogEntry) {
        self.log.push(entry);
        self.log_selected = self.log.len() - 1;
    }

    fn write(
        &mut self,
        what: &'static str,
        expr: String,
        ty: Option<Type>,
        addr: u64,
        bytes: Vec<u8>,
    ) {
        if self.exited() {
            self.say(
                Level::Warning,
                "the target has exited: nothing can be written",
            );
            return;
        }
        let tag = self.next_tag;
        self.next_tag += 1;
        self.pending.insert(tag, PendingWrite { what, expr, ty });
        self.send(Command::Write { tag, addr, bytes });
    }

    fn key(&mut self, key: KeyEvent) {
        let ctrl_c =
            key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL);
        let esc =
            key.code == KeyCode::Esc && self.input.is_none() && !self.help && self.chart.is_none();
        // Esc or Ctrl-C in the search pane stops a running search first.
        if (ctrl_c || esc) && self.pane == Pane::Search && self.search.is_running() {
            if let Some(c) = &self.search.running {
                c.cancel();
            }
            self.say(Level::Info, "search cancelled; results so far kept");
            return;
        }
        if ctrl_c {
            self.quit = true;
            return;
        }
        if self.input.is_some() {
            self.input_key(key);
            return;
        }
        if self.help || self.chart.is_some() {
            // Any key closes an overlay; the quit key also quits.
            let action = self.keys.action(&key);
            self.help = false;
            self.chart = None;
            if action == Some(Action::Quit) {
                self.quit = true;
            }
            return;
        }
        if let Some(action) = self.keys.action(&key) {
            self.action(action);
        } else if key.code == KeyCode::Esc {
            self.message = None;
        }
    }

    fn action(&mut self, action: Action) {
        let page = self.body_rows().saturating_sub(2).max(1) as i64;
        match action {
            Action::Quit => self.quit = true,
            Action::Help => self.help = true,
            Action::NextPane | Action::PrevPane => {
                let i = Pane::ALL.iter().position(|p| *p == self.pane).unwrap_or(0);
                let n = Pane::ALL.len();
                let j = if action == Action::NextPane {
                    (i + 1) % n
                } else {
                    (i + n - 1) % n
                };
                self.set_pane(Pane::ALL[j]);
            }
            Action::Watches => self.set_pane(Pane::Watches),
            Action::Maps => self.set_pane(Pane::Maps),
            Action::Hex => self.set_pane(Pane::Hex),
            Action::Log => self.set_pane(Pane::Log),
            Action::Output => self.set_pane(Pane::Output),
            Action::Search => self.set_pane(Pane::Search),
            Action::Pause => {
                self.paused = !self.paused;
                let paused = self.paused;
                self.send(Command::Pause(paused));
            }
            Action::Faster | Action::Slower => {
                let ms = self.interval.as_millis() as u64;
                let ms = if action == Action::Faster {
                    (ms / 2).max(10)
                } else {
                    (ms * 2).min(10_000)
                };
                self.interval = Duration::from_millis(ms);
                self.send(Command::Interval(self.interval));
                self.say(Level::Info, format!("polling every {ms} ms"));
            }
            Action::Up => self.move_by(-1),
            Action::Down => self.move_by(1),
            Action::PageUp => self.move_by(-page),
            Action::PageDown => self.move_by(page),
            Action::Top => self.move_by(i64::MIN / 2),
            Action::Bottom => self.move_by(i64::MAX / 2),
            Action::Left if self.pane == Pane::Hex => self.hex_move(-1),
            Action::Right if self.pane == Pane::Hex => self.hex_move(1),
            Action::Left | Action::Right => {}
            Action::Activate => match self.pane {
                Pane::Watches => self.start_edit(),
                Pane::Maps => {
                    let visible = self.maps.visible();
                    if let Some(r) = visible
                        .get(self.maps.selected)
                        .and_then(|i| self.maps.maps.regions().get(*i))
                    {
                        let start = r.start;
                        self.open_hex(start);
                    }
                }
                Pane::Hex => self.follow(),
                Pane::Search => {
                    if let Some(addr) = self.search.hits.get(self.search.selected).map(|h| h.addr) {
                        self.open_hex(addr);
                    }
                }
                _ => {}
            },
            Action::Add if self.pane == Pane::Search => self.add_hit_as_watch(),
            Action::Add => self.start_input(Purpose::AddWatch, String::new()),
            Action::Edit => match self.pane {
                Pane::Hex => self.start_hex_write(),
                _ => self.start_edit(),
            },
            Action::Freeze => self.toggle_freeze(),
            Action::Delete if self.pane == Pane::Watches => self.delete_watch(),
            Action::Delete => {}
            Action::Undo => self.undo(),
            Action::Save => self.start_input(Purpose::SaveWatches, "watches.pvtui".into()),
            Action::Chart => {
                if let Some(w) = self.watches.get(self.selected) {
                    if w.history.is_empty() {
                        self.say(Level::Info, "this watch has no numeric history to chart");
                    } else {
                        self.chart = Some(w.id);
                    }
                }
            }
            Action::Goto => self.start_input(Purpose::Goto, String::new()),
            Action::Follow => self.follow(),
            Action::Back => {
                if let Some(addr) = self.hex.back.pop() {
                    self.open_hex(addr);
                }
            }
            Action::Filter if self.pane == Pane::Maps => {
                let current = self.maps.filter.clone();
                self.start_input(Purpose::MapsFilter, current);
            }
            Action::Filter if self.pane == Pane::Search => {
                let query = self.search.query.clone();
                self.start_input(Purpose::Search, query);
            }
            Action::Filter => {}
            Action::Export => self.start_input(Purpose::ExportLog, "pvtui-writes.tsv".into()),
            Action::OpenHex => {
                if let Some(addr) = self.watches.get(self.selected).and_then(|w| w.addr) {
                    self.open_hex(addr);
                }
            }
            Action::Narrow => match (&self.search.scan, self.search.scan_ty) {
                (Some(_), Some(ty)) if !self.search.is_running() => {
                    self.start_input(Purpose::Narrow(ty), "changed".into())
                }
                _ => self.say(
                    Level::Info,
                    "narrowing follows a value scan: / then e.g. u32 1234",
                ),
            },
        }
    }

    fn move_by(&mut self, delta: i64) {
        let clamp = |cur: usize, len: usize| -> usize {
            if len == 0 {
                return 0;
            }
            (cur as i64).saturating_add(delta).clamp(0, len as i64 - 1) as usize
        };
        match self.pane {
            Pane::Watches => self.selected = clamp(self.selected, self.watches.len()),
            Pane::Maps => {
                let n = self.maps.visible().len();
                self.maps.selected = clamp(self.maps.selected, n);
            }
            Pane::Log => self.log_selected = clamp(self.log_selected, self.log.len()),
            Pane::Search => {
                self.search.selected = clamp(self.search.selected, self.search.hits.len())
            }
            Pane::Hex => {
                let rows = delta.clamp(-(1 << 40), 1 << 40);
                self.hex_move(rows * HEX_COLS as i64);
            }
            Pane::Output => {}
        }
    }

    fn hex_move(&mut self, bytes: i64) {
        let cursor = if bytes < 0 {
            self.hex.cursor.saturating_sub(bytes.unsigned_abs())
        } else {
            self.hex.cursor.saturating_add(bytes as u64)
        };
        self.hex.cursor = cursor;
        let rows = self.body_rows().max(1) as u64;
        let span = rows * HEX_COLS;
        let old_base = self.hex.base;
        if cursor < self.hex.base {
            self.hex.base = cursor - cursor % HEX_COLS;
        } else if cursor >= self.hex.base.saturating_add(span) {
            let row = cursor - cursor % HEX_COLS;
            self.hex.base = row.saturating_sub((rows - 1) * HEX_COLS);
        }
        if self.hex.base != old_base {
            self.hex.data = None;
            self.request_hex();
        }
    }

    /// The 8 bytes under the hex cursor as a little-endian pointer.
    pub fn pointer_at_cursor(&self) -> Option<u64> {
        let data = self.hex.data.as_ref()?;
        let off = self.hex.cursor.checked_sub(data.addr)? as usize;
        let bytes = data.data.get(off..off + 8)?;
        if (0..8).any(|i| data.unread_at(self.hex.cursor + i).is_some()) {
            return None;
        }
        let mut a = [0u8; 8];
        a.copy_from_slice(bytes);
        Some(u64::from_le_bytes(a))
    }

    fn follow(&mut self) {
        match self.pointer_at_cursor() {
            Some(ptr) if self.maps.maps.find(ptr).is_some() => {
                self.hex.back.push(self.hex.cursor);
                self.open_hex(ptr);
            }
            Some(ptr) => self.say(Level::Warning, format!("{ptr:#x} is not a mapped address")),
            None => self.say(Level::Warning, "the 8 bytes under the cursor were not read"),
        }
    }

    fn start_input(&mut self, purpose: Purpose, text: String) {
        if purpose.writes() && self.exited() {
            self.say(Level::Warning, "the target has exited: editing is disabled");
            return;
        }
        let mut input = Input::new(purpose, text);
        self.check_input(&mut input);
        self.input = Some(input);
    }

    fn start_edit(&mut self) {
        let Some(w) = self.watches.get(self.selected) else {
            self.say(Level::Info, "no watch selected: add one with a");
            return;
        };
        let Some(ty) = w.ty.clone() else {
            self.say(Level::Warning, "the watch's type is not known yet");
            return;
        };
        let text = w.value_text().unwrap_or_default();
        self.start_input(Purpose::EditWatch(w.id, ty), text);
    }

    fn start_hex_write(&mut self) {
        let cursor = self.hex.cursor;
        self.start_input(Purpose::HexWrite(cursor), String::new());
    }

    fn toggle_freeze(&mut self) {
        if self.exited() {
            self.say(Level::Warning, "the target has exited: nothing to freeze");
            return;
        }
        let Some(w) = self.watches.get_mut(self.selected) else {
            return;
        };
        let (id, expr) = (w.id, w.expr.clone());
        if let Some((addr, bytes)) = w.frozen.take() {
            w.freeze_error = None;
            let value = w.value_text().unwrap_or_default();
            let ty = w.ty.clone();
            self.send(Command::Unfreeze { watch: id });
            self.say(Level::Info, format!("unfreeze {expr}"));
            self.push_log(LogEntry {
                time: SystemTime::now(),
                what: "unfreeze",
                addr,
                expr,
                old: show(ty.as_ref(), &bytes),
                new: value,
                result: "released".into(),
                ok: true,
            });
            return;
        }
        let (Some(addr), Some(ty)) = (w.addr, w.ty.clone()) else {
            self.say(
                Level::Warning,
                "the value was not read: nothing to freeze at",
            );
            return;
        };
        self.send(Command::Freeze {
            watch: id,
            addr,
            len: ty.size(),
            bytes: None,
        });
    }

    /// A freeze took hold, or could not.
    fn frozen(&mut self, watch: WatchId, result: Result<(u64, Vec<u8>), String>) {
        let Some(w) = self.watches.iter_mut().find(|w| w.id == watch) else {
            return;
        };
        let expr = w.expr.clone();
        match result {
            Ok((addr, bytes)) => {
                let value = show(w.ty.as_ref(), &bytes);
                let ty = w.ty.as_ref().map(Type::to_string).unwrap_or_default();
                let was_frozen = w.frozen.replace((addr, bytes)).is_some();
                if was_frozen {
                    return;
                }
                self.say(Level::Info, format!("freeze {expr} at {value}"));
                self.push_log(LogEntry {
                    time: SystemTime::now(),
                    what: "freeze",
                    addr,
                    expr,
                    old: value.clone(),
                    new: value,
                    result: format!("held every tick as {ty}"),
                    ok: true,
                });
            }
            Err(why) => self.say(Level::Error, format!("freeze {expr}: {why}")),
        }
    }

    /// An expression the input line asked about was evaluated.
    fn evaluated(&mut self, tag: u64, result: Result<Evaluated, ExprError>) {
        if self.pending_goto == Some(tag) {
            self.pending_goto = None;
            match result {
                Ok(found) => {
                    self.hex.back.push(self.hex.cursor);
                    self.open_hex(found.addr);
                }
                Err(e) => self.say(Level::Error, format!("go to: {}", e.message)),
            }
            return;
        }
        if self.input_tag != Some(tag) {
            return;
        }
        let Some(input) = self.input.as_mut() else {
            return;
        };
        // A parse error found locally stays; otherwise show what the poller said.
        if input.error.is_none() {
            match result {
                Ok(found) => input.hint = Some(format!("→ {:#x} as {}", found.addr, found.ty)),
                Err(e) => input.error = Some(e),
            }
        }
    }

    fn delete_watch(&mut self) {
        if self.selected < self.watches.len() {
            let w = self.watches.remove(self.selected);
            if w.frozen.is_some() {
                self.send(Command::Unfreeze { watch: w.id });
            }
            self.selected = self.selected.min(self.watches.len().saturating_sub(1));
            self.sync_watches();
        }
    }

    fn undo(&mut self) {
        let Some(u) = self.undo.pop() else {
            self.say(Level::Info, "nothing to undo");
            return;
        };
        self.write("undo", u.expr, u.ty, u.addr, u.before);
    }

    /// What is wrong with the input's text, as far as the UI can tell;
    /// unknown symbols and unmapped regions come back from the poller.
    fn validate(&self, input: &Input) -> Option<ExprError> {
        let err = |message: String| Some(ExprError { column: 0, message });
        let lead = input.text.len() - input.text.trim_start().len();
        match &input.purpose {
            Purpose::AddWatch | Purpose::Goto => {
                parse_watch(input.text.trim()).err().map(|e| ExprError {
                    column: e.column + lead,
                    message: e.message,
                })
            }
            Purpose::EditWatch(_, ty) => ty.encode(&input.text).err().and_then(|e| err(e.why)),
            Purpose::HexWrite(_) => parse_hex_bytes(&input.text).err().and_then(err),
            Purpose::SaveWatches | Purpose::ExportLog => input
                .text
                .trim()
                .is_empty()
                .then(|| "a file name".to_string())
                .and_then(err),
            Purpose::MapsFilter => None,
            Purpose::Search => parse_request(&input.text)
                .err()
                .and_then(|e| err(e.to_string())),
            Purpose::Narrow(ty) => {
                let words: Vec<String> = input.text.split_whitespace().map(String::from).collect();
                crate::search::Condition::parse(*ty, &words)
                    .err()
                    .and_then(|e| err(e.to_string()))
            }
        }
    }

    /// Checks the input again, and asks the poller to resolve an expression.
    fn check_input(&mut self, input: &mut Input) {
        input.error = self.validate(input);
        input.hint = None;
        self.input_tag = None;
        if input.error.is_none() && matches!(input.purpose, Purpose::AddWatch | Purpose::Goto) {
            let tag = self.next_tag;
            self.next_tag += 1;
            self.input_tag = Some(tag);
            self.send(Command::Evaluate {
                tag,
                text: input.text.trim().to_string(),
            });
        }
    }

    fn input_key(&mut self, key: KeyEvent) {
        let Some(mut input) = self.input.take() else {
            return;
        };
        match key.code {
            KeyCode::Esc => {
                if input.purpose == Purpose::MapsFilter {
                    self.maps.filter.clear();
                }
                return;
            }
            KeyCode::Enter => {
                // An unknown symbol does not block adding a watch (its library may
                // load later), but a syntax error does.
                if let Some(e) = self.validate(&input) {
                    input.error = Some(e);
                    self.input = Some(input);
                } else {
                    self.submit(input);
                }
                return;
            }
            _ => input.edit(key),
        }
        self.check_input(&mut input);
        if input.purpose == Purpose::MapsFilter {
            self.maps.filter = input.text.clone();
            self.maps.selected = 0;
        }
        self.input = Some(input);
    }

    fn submit(&mut self, input: Input) {
        let text = input.text.trim().to_string();
        match input.purpose {
            Purpose::AddWatch => {
                if let Err(e) = self.add_watch(&text) {
                    self.say(Level::Error, e.message);
                }
            }
            Purpose::EditWatch(id, ty) => {
                let Some(w) = self.watches.iter().find(|w| w.id == id) else {
                    return;
                };
                let (expr, addr, frozen) = (w.expr.clone(), w.addr, w.frozen.is_some());
                let Some(addr) = addr else {
                    self.say(Level::Error, "the watch has no address to write to");
                    return;
                };
                match ty.encode(&text) {
                    Ok(bytes) => {
                        if frozen {
                            // Editing a frozen value freezes the new one.
                            self.send(Command::Freeze {
                                watch: id,
                                addr,
                                len: bytes.len(),
                                bytes: Some(bytes.clone()),
                            });
                        }
                        self.write("write", expr, Some(ty), addr, bytes);
                    }
                    Err(e) => self.say(Level::Error, e.to_string()),
                }
            }
            Purpose::HexWrite(addr) => match parse_hex_bytes(&text) {
                Ok(bytes) => self.write("write", format!("{addr:#x}"), None, addr, bytes),
                Err(e) => self.say(Level::Error, e),
            },
            Purpose::Goto => {
                let tag = self.next_tag;
                self.next_tag += 1;
                self.pending_goto = Some(tag);
                self.send(Command::Evaluate { tag, text });
            }
            Purpose::SaveWatches => {
                let tag = self.next_tag;
                self.next_tag += 1;
                self.pending_save = Some((tag, text));
                self.send(Command::Portable { tag });
            }
            Purpose::ExportLog => self.export_log(&text),
            Purpose::MapsFilter => self.maps.filter = text,
            Purpose::Search => self.start_search(text),
            Purpose::Narrow(ty) => self.narrow(ty, &text),
        }
    }

    fn start_search(&mut self, text: String) {
        let request = match parse_request(&text) {
            Ok(r) => r,
            Err(e) => return self.say(Level::Error, e.to_string()),
        };
        let Some(searcher) = self.searcher.clone() else {
            return self.say(Level::Error, "no target to search");
        };
        if let Some(c) = self.search.running.take() {
            c.cancel();
        }
        let seq = self.search.seq + 1;
        let scan_ty = match &request {
            Request::Scan(ty, _) => Some(*ty),
            Request::Pattern(_) => None,
        };
        self.search = SearchState {
            query: text,
            seq,
            scan_ty,
            ..SearchState::default()
        };
        match searcher.start(seq, &request, &self.maps.maps) {
            Ok(canceller) => self.search.running = Some(canceller),
            Err(e) => self.say(Level::Error, e.to_string()),
        }
    }

    fn narrow(&mut self, ty: crate::search::ValueType, text: &str) {
        let words: Vec<String> = text.split_whitespace().map(String::from).collect();
        let condition = match crate::search::Condition::parse(ty, &words) {
            Ok(c) => c,
            Err(e) => return self.say(Level::Error, e.to_string()),
        };
        let (Some(searcher), Some(from)) = (self.searcher.clone(), self.search.scan.take()) else {
            return;
        };
        self.search.seq += 1;
        self.search.hits.clear();
        self.search.summary = None;
        self.search.progress = None;
        self.search.query = format!("{} · narrow: {text}", self.search.query);
        match searcher.narrow(self.search.seq, from, condition, &self.maps.maps) {
            Ok(canceller) => self.search.running = Some(canceller),
            Err(e) => self.say(Level::Error, e.to_string()),
        }
    }

    fn add_hit_as_watch(&mut self) {
        let Some(hit) = self.search.hits.get(self.search.selected).cloned() else {
            return self.say(Level::Info, "no result selected: / starts a search");
        };
        let expr = self.search.watch_for(&hit, &self.maps.maps);
        match self.add_watch(&expr) {
            Ok(()) => self.say(Level::Info, format!("added watch {expr}")),
            Err(e) => self.say(Level::Error, format!("{expr}: {}", e.message)),
        }
    }

    /// Writes the watch list, as the poller made it portable: addresses in
    /// mapped files as `module!symbol+off` or `[module]+off`.
    fn save_watches(&mut self, path: &str, lines: &[String]) {
        let mut text =
            String::from("# pvtui watch list: one expression a line (pvtui --watches FILE)\n");
        for line in lines {
            text.push_str(line);
            text.push('\n');
        }
        match std::fs::write(path, text) {
            Ok(()) => self.say(
                Level::Info,
                format!("saved {} watches to {path}", lines.len()),
            ),
            Err(e) => self.say(Level::Error, format!("cannot write {path}: {e}")),
        }
    }

    fn export_log(&mut self, path: &str) {
        let mut text = String::from("time\twhat\taddress\texpression\told\tnew\tresult\n");
        for e in &self.log {
            text.push_str(&format!(
                "{}\t{}\t{:#x}\t{}\t{}\t{}\t{}\n",
                clock(e.time),
                e.what,
                e.addr,
                e.expr,
                e.old,
                e.new,
                e.result
            ));
        }
        match std::fs::write(path, text) {
            Ok(()) => self.say(
                Level::Info,
                format!("exported {} log entries to {path}", self.log.len()),
            ),
            Err(e) => self.say(Level::Error, format!("cannot write {path}: {e}")),
        }
    }

    fn mouse(&mut self, mouse: MouseEvent) {
        if self.input.is_some() || self.help || self.chart.is_some() {
            return;
        }
        match mouse.kind {
            MouseEventKind::ScrollUp => self.move_by(-3),
            MouseEventKind::ScrollDown => self.move_by(3),
            MouseEventKind::Down(MouseButton::Left) => {
                let Some(row) = crate::tui::view::body_row_at(self.size, mouse.row) else {
                    return;
                };
                match self.pane {
                    Pane::Watches => {
                        let offset =
                            scroll_offset(self.selected, self.body_rows().saturating_sub(1));
                        let i = offset + row.saturating_sub(1);
                        if row >= 1 && i < self.watches.len() {
                            self.selected = i;
                        }
                    }
                    Pane::Maps => {
                        let offset =
                            scroll_offset(self.maps.selected, self.body_rows().saturating_sub(1));
                        let i = offset + row.saturating_sub(1);
                        if row >= 1 && i < self.maps.visible().len() {
                            self.maps.selected = i;
                        }
                    }
                    Pane::Hex => {
                        let col = crate::tui::view::hex_col_at(mouse.column);
                        if let Some(col) = col {
                            self.hex.cursor = self.hex.base + row as u64 * HEX_COLS + col;
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
}

/// The first row shown so that `selected` is visible in `rows` rows.
pub fn scroll_offset(selected: usize, rows: usize) -> usize {
    if rows == 0 || selected < rows {
        0
    } else {
        selected + 1 - rows
    }
}

/// A value's bytes as its type shows them, or as hex.
fn show(ty: Option<&Type>, bytes: &[u8]) -> String {
    match ty {
        Some(ty) if bytes.len() >= ty.size() || ty.reads_prefix() => ty.decode(bytes).to_string(),
        _ => hex_bytes(bytes),
    }
}

/// `de ad be ef` or `deadbeef`.
pub fn parse_hex_bytes(text: &str) -> Result<Vec<u8>, String> {
    let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.is_empty() {
        return Err("expected hex bytes, e.g. de ad be ef".into());
    }
    if digits.len() % 2 != 0 || !digits.is_ascii() {
        return Err("expected pairs of hex digits".into());
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(&digits[i..i + 2], 16)
                .map_err(|_| format!("{:?} is not a hex byte", &digits[i..i + 2]))
        })
        .collect()
}

pub fn hex_bytes(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `HH:MM:SS` (UTC) of a time.
pub fn clock(time: SystemTime) -> String {
    let secs = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let day = secs % 86_400;
    format!("{:02}:{:02}:{:02}", day / 3600, day % 3600 / 60, day % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyModifiers;

    fn app() -> (App, std::sync::mpsc::Receiver<Command>) {
        let (tx, rx) = std::sync::mpsc::channel();
        let options = AppOptions {
            pid: 1,
            name: "t".into(),
            access: Access {
                pidfd: false,
                nowait: false,
            },
            interval: Duration::from_millis(100),
            theme: Theme::fallback(),
            keys: KeyMap::default(),
            spawned: false,
        };
        let mut app = App::new(options, tx);
        app.size = (100, 30);
        (app, rx)
    }

    fn mouse(kind: MouseEventKind, row: u16) -> Event {
        Event::Mouse(MouseEvent {
            kind,
            column: 5,
            row,
            modifiers: KeyModifiers::NONE,
        })
    }

    #[test]
    fn mouse_clicks_select_rows_and_the_wheel_scrolls() {
        let (mut app, _rx) = app();
        app.queue_watches((0..10).map(|i| format!("{:#x}:u8", 0x1000 + i)).collect());
        // Header 2 + tabs 1 + border 1 + table header 1: the first watch is on row 5.
        app.update(mouse(MouseEventKind::Down(MouseButton::Left), 5 + 3));
        assert_eq!(app.selected, 3);
        app.update(mouse(MouseEventKind::ScrollDown, 10));
        assert_eq!(app.selected, 6);
        app.update(mouse(MouseEventKind::ScrollUp, 10));
        app.update(mouse(MouseEventKind::ScrollUp, 10));
        assert_eq!(app.selected, 0);
        // A click below the last watch selects nothing new.
        app.update(mouse(MouseEventKind::Down(MouseButton::Left), 25));
        assert_eq!(app.selected, 0);
    }

    #[test]
    fn every_watch_change_is_sent_to_the_poller() {
        let (mut app, rx) = app();
        app.queue_watches(vec!["0x10:u32".into(), "0x20".into()]);
        let last = rx.try_iter().last();
        assert!(matches!(last, Some(Command::SetWatches(list)) if list.len() == 2));
        app.update(Event::Key(
            KeyEvent::new(KeyCode::Char('d'), KeyModifiers::NONE),
            Instant::now(),
        ));
        let last = rx.try_iter().last();
        assert!(matches!(last, Some(Command::SetWatches(list)) if list.len() == 1));
    }

    #[test]
    fn exit_disables_editing_and_keeps_values() {
        let (mut app, _rx) = app();
        app.queue_watches(vec!["0x10:u32".into()]);
        app.update(Event::Poller(PollerEvent::Exited));
        assert!(app.exited());
        app.update(Event::Key(
            KeyEvent::new(KeyCode::Char('e'), KeyModifiers::NONE),
            Instant::now(),
        ));
        assert!(app.input.is_none(), "no edit after exit");
        app.update(Event::Key(
            KeyEvent::new(KeyCode::Char('f'), KeyModifiers::NONE),
            Instant::now(),
        ));
        assert!(app.watches[0].frozen.is_none());
    }
}
