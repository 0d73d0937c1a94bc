//! The UI's state and how each event changes it. Nothing here touches the
//! target: reads and writes are commands to the poller, answered by events.
//!
//! Each pane keeps its own state and update in its own module ([`watches`],
//! [`maps`], [`hex`], [`log`], [`output`]; [`pane`] names them and their
//! footer hints; the search pane's state is
//! [`crate::tui::search`]). `App` holds them, routes each event to the pane
//! it concerns, and carries what panes share: the poller's command channel,
//! the input line and the status message. Screen geometry comes from
//! [`crate::tui::layout`], which the drawing code reads too.

pub mod hex;
pub mod log;
pub mod maps;
pub mod output;
pub mod pane;
pub mod peers;
pub mod shared;
pub mod watches;

mod edits;
mod hunt;
mod mouse;
mod prompt;
mod search;
#[cfg(test)]
pub(crate) mod tests;
mod through;

use std::collections::VecDeque;
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::poller::{Command, PollerEvent, Snapshot, WatchId};
use crate::process::Access;
use crate::tui::event::Event;
use crate::tui::hunt::{HuntView, Hunter};
use crate::tui::input::{Input, Purpose};
use crate::tui::keys::{Action, KeyMap};
use crate::tui::layout;
use crate::tui::search::{SearchState, Searcher};
use crate::tui::theme::Theme;

pub use hex::HexState;
pub use log::{LogEntry, WriteLog, clock};
pub use maps::MapsState;
pub use output::OutputPane;
pub use pane::Pane;
pub use peers::{Peer, Peers};
pub use shared::SharedMap;
pub use watches::{HISTORY, Sample, Trend, WatchRow, WatchesPane};

/// How long a changed value stays highlighted.
const HIGHLIGHT_FOR: Duration = Duration::from_millis(1500);

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetState {
    Running,
    /// Stopped by a signal or a tracer: its values hold still.
    Stopped,
    /// Exited; how, when we know (a target we spawned).
    Exited(Option<String>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Info,
    Warning,
    Error,
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

/// The attached process, as the header shows it.
#[derive(Clone, Debug)]
pub struct ProcessInfo {
    pub pid: i32,
    pub name: String,
    pub access: Access,
    /// Whether pvtui started it (its output and exit status are ours to show).
    pub spawned: bool,
    pub state: TargetState,
}

/// The poll schedule, and how the last tick went.
#[derive(Clone, Debug)]
pub struct Polling {
    pub interval: Duration,
    pub paused: bool,
    pub tick: u64,
    pub lateness: Duration,
    pub took: Duration,
}

/// Replies the UI waits for from the poller, by tag.
#[derive(Debug, Default)]
struct Waiting {
    /// The evaluation the input line waits for (as-you-type checks).
    input: Option<u64>,
    /// A go-to waiting for its address.
    goto: Option<u64>,
    /// A save waiting for the portable watch list: tag and path.
    save: Option<(u64, String)>,
    /// A path found already there: saving to it again replaces it.
    overwrite: Option<String>,
    /// The completion the input line waits for.
    complete: Option<u64>,
}

pub struct App {
    pub process: ProcessInfo,
    pub poll: Polling,
    pub theme: Theme,
    pub keys: KeyMap,
    pub pane: Pane,
    pub help: bool,
    /// How far the help overlay is scrolled.
    pub help_scroll: usize,
    pub input: Option<Input>,
    pub watches: WatchesPane,
    pub maps: MapsState,
    pub hex: HexState,
    pub search: SearchState,
    pub log: WriteLog,
    pub output: OutputPane,
    pub message: Option<(Level, String)>,
    /// The terminal's size, for paging and mouse hits.
    pub size: (u16, u16),
    pub quit: bool,
    /// The signal that asked to quit, for the exit status.
    pub quit_signal: Option<nix::sys::signal::Signal>,
    /// Input-to-frame latency samples, filled by the loop.
    pub latencies: VecDeque<Duration>,
    /// Starts search jobs; absent where no target is attached (unit tests).
    pub searcher: Option<Searcher>,
    /// Other targets shown beside this one, each polled on its own.
    pub peers: Peers,
    /// The Shared pane: the shared-memory map of the targets shown.
    pub shared: SharedMap,
    /// Where a new peer's poller sends its events; absent in unit tests.
    pub events: Option<Sender<Event>>,
    /// The pointer chains or writers list drawn over the pane.
    pub hunt: Option<HuntView>,
    /// Starts pointer scans and writers watches; absent in unit tests.
    pub hunter: Option<Hunter>,
    hunt_seq: u64,
    /// The watch the message is about: it goes when the watch does.
    message_watch: Option<WatchId>,
    commands: Sender<Command>,
    next_tag: u64,
    writes: log::Writes,
    waiting: Waiting,
}

impl App {
    pub fn new(options: AppOptions, commands: Sender<Command>) -> App {
        App {
            process: ProcessInfo {
                pid: options.pid,
                name: options.name,
                access: options.access,
                spawned: options.spawned,
                state: TargetState::Running,
            },
            poll: Polling {
                interval: options.interval,
                paused: false,
                tick: 0,
                lateness: Duration::ZERO,
                took: Duration::ZERO,
            },
            theme: options.theme,
            keys: options.keys,
            pane: Pane::Watches,
            help: false,
            help_scroll: 0,
            input: None,
            watches: WatchesPane::default(),
            maps: MapsState::default(),
            hex: HexState::default(),
            search: SearchState::default(),
            log: WriteLog::default(),
            output: OutputPane::default(),
            message: None,
            size: (80, 24),
            quit: false,
            quit_signal: None,
            latencies: VecDeque::new(),
            searcher: None,
            peers: Peers::default(),
            shared: SharedMap::default(),
            events: None,
            hunt: None,
            hunter: None,
            hunt_seq: 0,
            message_watch: None,
            commands,
            next_tag: 1,
            writes: log::Writes::default(),
            waiting: Waiting::default(),
        }
    }

    pub fn exited(&self) -> bool {
        matches!(self.process.state, TargetState::Exited(_))
    }

    fn send(&mut self, command: Command) {
        self.peers.forward(&command);
        if self.commands.send(command).is_err() && !self.exited() {
            self.say(Level::Error, "the poller has stopped");
        }
    }

    /// A fresh tag for a command whose reply the UI waits for.
    fn tag(&mut self) -> u64 {
        let tag = self.next_tag;
        self.next_tag += 1;
        tag
    }

    pub fn say(&mut self, level: Level, text: impl Into<String>) {
        self.message = Some((level, text.into()));
        self.message_watch = None;
    }

    /// Says something about one watch; deleting the watch clears it.
    fn say_about(&mut self, watch: WatchId, level: Level, text: impl Into<String>) {
        self.say(level, text);
        self.message_watch = Some(watch);
    }

    /// Whether a change at `at` is still highlighted.
    pub fn highlighted(at: Option<Instant>) -> bool {
        at.is_some_and(|t| t.elapsed() < HIGHLIGHT_FOR)
    }

    /// Adds a watch from its expression; the error says what is wrong with it.
    pub fn add_watch(&mut self, expr: &str) -> Result<WatchId, crate::expr::Diagnostic> {
        let watch = crate::expr::parse_typed(expr)?;
        Ok(self.add_parsed(expr, watch))
    }

    /// Adds a watch parsed where it was typed; the poller gets it as it is.
    pub(super) fn add_parsed(&mut self, expr: &str, watch: crate::expr::Watch) -> WatchId {
        let id = self.watches.push_parsed(expr, watch.clone());
        self.send(Command::AddWatches(vec![(id, watch)]));
        id
    }

    /// Adds the watches given at start, in one command to the poller; those
    /// that do not parse are reported.
    pub fn queue_watches(&mut self, exprs: Vec<String>) {
        let mut added = Vec::new();
        for expr in exprs {
            match crate::expr::parse_typed(&expr) {
                Ok(watch) => {
                    let id = self.watches.push_parsed(&expr, watch.clone());
                    added.push((id, watch));
                }
                Err(e) => self.say(Level::Error, format!("watch {expr:?}: {}", e.message)),
            }
        }
        self.watches.selected = 0;
        self.send(Command::AddWatches(added));
    }

    /// The help's entries: every action's keys and what it does, then the
    /// keys that are not actions.
    pub fn help_entries(&self) -> Vec<(String, &'static str)> {
        let mut entries = self.keys.help_entries();
        entries.push((
            "mouse".into(),
            "wheel scrolls the pane under the pointer, click selects",
        ));
        entries.push((
            "input line".into(),
            "←/→ Home/End move, Ctrl-U clears, Enter confirms, Esc cancels",
        ));
        entries
    }

    /// How many lines a key scrolls the help by, if it scrolls it.
    fn help_scroll_by(&self, action: Action) -> Option<i64> {
        let page = self.size.1.saturating_sub(4).max(1) as i64;
        Some(match action {
            Action::Up => -1,
            Action::Down => 1,
            Action::PageUp => -page,
            Action::PageDown => page,
            Action::Top => i64::MIN / 2,
            Action::Bottom => i64::MAX / 2,
            _ => return None,
        })
    }

    /// The whole screen.
    fn screen(&self) -> ratatui::layout::Rect {
        ratatui::layout::Rect::new(0, 0, self.size.0, self.size.1)
    }

    /// Rows of the body area (the pane's content), for paging.
    pub fn body_rows(&self) -> usize {
        layout::body_rows(self.size)
    }

    /// Bytes per hex row at the terminal's width.
    pub fn hex_cols(&self) -> u64 {
        layout::hex_cols(self.size.0)
    }

    fn request_hex(&mut self) {
        let (rows, cols) = (layout::hex_rows(self.size), self.hex_cols());
        self.hex.realign(rows, cols);
        let range =
            (self.pane == Pane::Hex && !self.hex_exited()).then(|| self.hex.range(rows, cols));
        self.send_hex(Command::HexRange(range));
    }

    /// Opens `addr` in the hex view, the cursor on it, read through the
    /// target it reads through now.
    pub fn open_hex(&mut self, addr: u64) {
        self.hex.open(addr, self.hex_cols());
        self.set_pane(Pane::Hex);
        self.send_hex(Command::Describe(addr));
    }

    pub fn set_pane(&mut self, pane: Pane) {
        self.pane = pane;
        self.send(Command::WantResidency(pane == Pane::Maps));
        if pane == Pane::Hex && !self.hex.opened {
            // The first look shows something worth seeing, not address 0:
            // the selected watch's bytes, else the first writable mapping.
            let start = self
                .watches
                .selected_row()
                .and_then(|w| w.addr)
                .or_else(|| {
                    self.maps
                        .maps
                        .regions()
                        .iter()
                        .find(|r| r.perms.write)
                        .map(|r| r.start)
                });
            if let Some(addr) = start {
                self.hex.open(addr, self.hex_cols());
                self.send_hex(Command::Describe(addr));
            }
        }
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
            Event::Shared(report) => self.shared.collected(report),
            Event::Peer(pid, event) => self.peer_event(pid, event),
            Event::TargetOutput(line) => self.output.push(line),
            Event::TargetOutputReady => self.output.woke(),
            // The loop clears the terminal; the next frame draws everything.
            Event::Redraw => {}
            Event::TargetEnded(how) => {
                self.process.state = TargetState::Exited(Some(how));
                self.input = None;
            }
            Event::Search(seq, update) => self.search.update(seq, update),
            Event::Hunt(seq, event) => {
                if let Some(view) = self.hunt.as_mut() {
                    view.update(seq, event);
                }
            }
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
            PollerEvent::Exec { name } => self.ran_exec(name),
            PollerEvent::Stopped(stopped) => {
                if !self.exited() {
                    self.process.state = if stopped {
                        TargetState::Stopped
                    } else {
                        TargetState::Running
                    };
                }
            }
            PollerEvent::Wrote { tag, result, place } => {
                self.wrote(tag, result.map_err(|e| e.to_string()), place)
            }
            PollerEvent::Exited => {
                if !self.exited() {
                    self.process.state = TargetState::Exited(None);
                }
                self.watches.release_freezes();
                self.waiting.input = None;
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
            PollerEvent::Frozen { watch, result } => {
                self.frozen(watch, result.map_err(|e| e.to_string()))
            }
            PollerEvent::Evaluated { tag, result } => self.evaluated(tag, result),
            PollerEvent::Completions { tag, items } => self.completed(tag, &items),
            PollerEvent::Described { addr, label } => {
                if self.hex.through.is_none() {
                    self.hex.label = label.map(|l| (addr, l));
                }
            }
            PollerEvent::Placed { addr, place } => self.hex.pointee = Some((addr, place)),
            PollerEvent::Portable { tag, lines } => {
                if let Some((want, path)) = self.waiting.save.take() {
                    if want == tag {
                        self.save_watches(&path, &lines);
                    } else {
                        self.waiting.save = Some((want, path));
                    }
                }
            }
        }
    }

    fn snapshot(&mut self, s: Snapshot) {
        let now = Instant::now();
        self.poll.tick = s.tick;
        self.poll.lateness = s.lateness;
        self.poll.took = s.took;
        self.maps.apply(s.maps, s.residency);
        for (id, why) in self.watches.apply(s.watches, s.freeze_errors, now) {
            self.freeze_failed(id, why);
        }
        // Bytes read before the hex view turned to another target are not its.
        if let Some(hex) = s.hex.filter(|_| self.hex.through.is_none()) {
            self.hex.apply(hex, now);
            self.name_pointer();
        }
    }

    /// Asks the poller to name where the bytes under the cursor point, for
    /// the inspector, once per pointer.
    fn name_pointer(&mut self) {
        if self.hex.through.is_some() {
            return;
        }
        if let Some(ptr) = self.hex.pointer_to_name() {
            self.send(Command::Place(ptr));
        }
    }

    fn key(&mut self, key: KeyEvent) {
        let ctrl_c =
            key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL);
        let esc = key.code == KeyCode::Esc
            && self.input.is_none()
            && self.hunt.is_none()
            && !self.help
            && self.watches.chart.is_none();
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
        let action = self.keys.action(&key);
        if self.hunt.is_some() && !self.help {
            self.hunt_key(key, action);
            return;
        }
        if self.help {
            if let Some(by) = action.and_then(|a| self.help_scroll_by(a)) {
                let max = layout::help(self.screen(), &self.help_entries()).max_scroll();
                self.help_scroll = (self.help_scroll as i64 + by).clamp(0, max as i64) as usize;
                return;
            }
        }
        if self.help || self.watches.chart.is_some() {
            // Any other key closes an overlay; the quit key also quits.
            self.help = false;
            self.watches.chart = None;
            if action == Some(Action::Quit) {
                self.quit = true;
            }
            return;
        }
        if let Some(action) = action {
            self.action(action);
        } else if key.code == KeyCode::Esc {
            self.message = None;
        }
    }

    fn action(&mut self, action: Action) {
        let page = self.body_rows().saturating_sub(2).max(1) as i64;
        match action {
            Action::Quit => self.quit = true,
            Action::Help => {
                self.help = true;
                self.help_scroll = 0;
            }
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
                self.poll.paused = !self.poll.paused;
                let paused = self.poll.paused;
                self.send(Command::Pause(paused));
            }
            Action::Faster | Action::Slower => {
                let ms = self.poll.interval.as_millis() as u64;
                let ms = if action == Action::Faster {
                    (ms / 2).max(10)
                } else {
                    (ms * 2).min(10_000)
                };
                self.poll.interval = Duration::from_millis(ms);
                self.send(Command::Interval(self.poll.interval));
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
            Action::Right if self.pane == Pane::Watches => self.expand_watch(),
            Action::Left if self.pane == Pane::Watches => self.collapse_watch(),
            Action::Left | Action::Right => {}
            Action::Activate => match self.pane {
                Pane::Watches
                    if self
                        .watches
                        .selected_row()
                        .is_some_and(|w| w.is_aggregate()) =>
                {
                    if self.watches.selected_row().is_some_and(|w| w.expanded) {
                        self.collapse_watch();
                    } else {
                        self.expand_watch();
                    }
                }
                Pane::Watches => self.start_edit(),
                Pane::Maps => {
                    if let Some(start) = self.maps.selected_start() {
                        self.open_main_hex(start);
                    }
                }
                Pane::Hex => self.follow(),
                Pane::Search => {
                    if let Some(addr) = self.search.hits.get(self.search.selected).map(|h| h.addr) {
                        self.open_main_hex(addr);
                    }
                }
                Pane::Shared => self.open_shared_object(),
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
                if let Some(w) = self.watches.selected_row() {
                    if w.history.is_empty() {
                        self.say(Level::Info, "this watch has no numeric history to chart");
                    } else {
                        self.watches.chart = Some(w.id);
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
            // Empty, as the narrowing prompt: typed text would join the
            // last query (`Conanheap`); the pane still shows that query.
            Action::Filter if self.pane == Pane::Search => {
                self.start_input(Purpose::Search, String::new());
            }
            Action::Filter => {}
            Action::Export => self.start_input(Purpose::ExportLog, "pvtui-writes.tsv".into()),
            Action::OpenHex => {
                if let Some(addr) = self.watches.selected_row().and_then(|w| w.addr) {
                    self.open_main_hex(addr);
                }
            }
            Action::Narrow => self.start_narrow(),
            Action::AddTarget => self.start_input(Purpose::AddTarget, String::new()),
            Action::Shared => self.open_shared(),
            Action::Through => match self.pane {
                Pane::Hex => self.next_through(),
                Pane::Shared => self.shared.next_process(self.process.pid),
                _ => {}
            },
            Action::Refresh if self.pane == Pane::Shared => self.collect_shared(),
            Action::Refresh => {}
            Action::DropTarget => match self.peers.drop_last() {
                Some(pid) => {
                    if self.hex.through == Some(pid) {
                        // Its poller is gone with it: the main target reads the range.
                        self.hex.through = None;
                        self.hex.data = None;
                        self.hex.back.clear();
                        self.request_hex();
                    }
                    self.say(Level::Info, format!("no longer showing {pid}"));
                }
                None => self.say(Level::Info, "no other target to drop"),
            },
            Action::Pointers => self.start_pointers(),
            Action::Writers => self.start_writers(),
            Action::Trend => {
                self.watches.trend = self.watches.trend.next();
                let shown = match self.watches.trend {
                    Trend::Hidden => "no change column",
                    Trend::Delta => "the change column shows the change per tick",
                    Trend::Rate => "the change column shows the change per second",
                };
                self.say(Level::Info, shown);
            }
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
            Pane::Watches => {
                self.watches.selected = clamp(self.watches.selected, self.watches.len())
            }
            Pane::Maps => {
                let n = self.maps.visible().len();
                self.maps.selected = clamp(self.maps.selected, n);
            }
            Pane::Log => self.log.selected = clamp(self.log.selected, self.log.len()),
            Pane::Search => {
                self.search.selected = clamp(self.search.selected, self.search.hits.len())
            }
            Pane::Hex => {
                let rows = delta.clamp(-(1 << 40), 1 << 40);
                self.hex_move(rows * self.hex_cols() as i64);
            }
            Pane::Shared => self.shared.move_by(delta),
            Pane::Output => {}
        }
    }

    fn hex_move(&mut self, bytes: i64) {
        let (rows, cols) = (layout::hex_rows(self.size), self.hex_cols());
        if self.hex.move_cursor(bytes, rows, cols) {
            self.request_hex();
        }
        self.send_hex(Command::Describe(self.hex.cursor));
        self.name_pointer();
    }

    fn follow(&mut self) {
        match self.hex.pointer_at_cursor() {
            Some(ptr) if self.hex_maps().find(ptr).is_some() => {
                self.hex.back.push(self.hex.cursor);
                self.open_hex(ptr);
            }
            Some(ptr) => self.say(Level::Warning, format!("{ptr:#x} is not a mapped address")),
            None => self.say(Level::Warning, "the 8 bytes under the cursor were not read"),
        }
    }

    fn delete_watch(&mut self) {
        for w in self.watches.remove_selected() {
            // The poller drops its freeze with it.
            self.send(Command::RemoveWatch(w.id));
            if self.message_watch == Some(w.id) {
                self.message = None;
                self.message_watch = None;
            }
        }
    }

    /// Opens a struct or array watch into its fields, each a live watch.
    fn expand_watch(&mut self) {
        let added = self.watches.expand_selected();
        if !added.is_empty() {
            self.send(Command::AddWatches(added));
        }
    }

    fn collapse_watch(&mut self) {
        for id in self.watches.collapse_selected() {
            self.send(Command::RemoveWatch(id));
        }
    }
}
