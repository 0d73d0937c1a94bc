//! The watches pane: the list the user built, each watch's latest reading
//! and history, the selection and the chart overlay.

use std::collections::VecDeque;
use std::time::Instant;

use crate::debuginfo;
use crate::expr::{Expr, Status, Type, Value, Watch, WatchReading};
use crate::poller::WatchId;

/// How many values a watch keeps for its sparkline and chart.
pub const HISTORY: usize = 240;

/// How many rows one struct or array opens into at most.
pub const MAX_CHILDREN: usize = 256;

/// One numeric value of a watch, and when it was read.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    pub at: Instant,
    pub value: f64,
}

/// What the optional column after the value shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Trend {
    #[default]
    Hidden,
    /// The change since the previous reading.
    Delta,
    /// The change per second over the last two readings.
    Rate,
}

impl Trend {
    /// The next in the cycle the toggle key walks.
    pub fn next(self) -> Trend {
        match self {
            Trend::Hidden => Trend::Delta,
            Trend::Delta => Trend::Rate,
            Trend::Rate => Trend::Hidden,
        }
    }
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
    pub history: VecDeque<Sample>,
    /// Where and what a freeze holds.
    pub frozen: Option<(u64, Vec<u8>)>,
    pub freeze_error: Option<String>,
    /// How deep in a struct watch's tree: 0 for a watch the user added.
    pub depth: usize,
    /// Whether its fields (or elements) are shown under it.
    pub expanded: bool,
}

impl WatchRow {
    /// Whether it has fields or elements to show as a tree.
    pub fn is_aggregate(&self) -> bool {
        matches!(&self.ty, Some(Type::Debug(d)) if d.is_aggregate())
    }

    /// The expressions of its parts, from its latest value: `x.f` for each
    /// named field, `x[i]` for the first [`MAX_CHILDREN`] elements.
    fn children(&self) -> Vec<Expr> {
        let Some(Value::Typed(value)) = &self.value else {
            return Vec::new();
        };
        let base = Box::new(self.watch.expr.clone());
        match value {
            debuginfo::Value::Struct { fields, .. } => fields
                .iter()
                .filter(|(name, _)| !name.is_empty())
                .take(MAX_CHILDREN)
                .map(|(name, _)| Expr::Field {
                    base: base.clone(),
                    name: name.clone(),
                    column: 0,
                })
                .collect(),
            debuginfo::Value::Array { elements, .. } => (0..elements.len().min(MAX_CHILDREN))
                .map(|i| Expr::Index {
                    base: base.clone(),
                    index: Box::new(Expr::Number(i as u64)),
                    column: 0,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    pub fn value_text(&self) -> Option<String> {
        self.value.as_ref().map(Value::to_string)
    }

    /// The change the trend column shows: `+3`, `-0.5`, `+12/s`; none
    /// before two numeric readings.
    pub fn trend_text(&self, trend: Trend) -> Option<String> {
        let mut last = self.history.iter().rev();
        let (now, before) = (last.next()?, last.next()?);
        let delta = now.value - before.value;
        let (x, unit) = match trend {
            Trend::Hidden => return None,
            Trend::Delta => (delta, ""),
            Trend::Rate => {
                let secs = now.at.saturating_duration_since(before.at).as_secs_f64();
                if secs <= 0.0 {
                    return None;
                }
                (delta / secs, "/s")
            }
        };
        let text = if x.fract() == 0.0 && x.abs() < 1e15 {
            format!("{x:+}")
        } else {
            format!("{x:+.3}")
                .trim_end_matches('0')
                .trim_end_matches('.')
                .to_string()
        };
        Some(format!("{text}{unit}"))
    }

    /// Takes one reading: never a stale number for a value that was not read.
    fn apply(&mut self, reading: WatchReading, now: Instant) {
        self.addr = reading.address;
        // The poller holds a freeze where the watch's path leads now.
        if let (Some((at, _)), Some(addr)) = (&mut self.frozen, reading.address) {
            *at = addr;
        }
        self.ty = Some(reading.ty);
        if reading.status == Status::Changed {
            self.changed_at = Some(now);
        }
        if let Some(x) = reading
            .value
            .as_ref()
            .and_then(Value::as_f64)
            .filter(|x| x.is_finite())
        {
            if self.history.len() == HISTORY {
                self.history.pop_front();
            }
            self.history.push_back(Sample { at: now, value: x });
        }
        self.value = reading.value;
        self.status = Some(reading.status);
    }
}

#[derive(Debug)]
pub struct WatchesPane {
    pub rows: Vec<WatchRow>,
    pub selected: usize,
    /// The watch whose history is charted over the pane.
    pub chart: Option<WatchId>,
    /// What the column after the value shows.
    pub trend: Trend,
    next_id: u64,
}

impl Default for WatchesPane {
    fn default() -> Self {
        WatchesPane {
            rows: Vec::new(),
            selected: 0,
            chart: None,
            trend: Trend::Hidden,
            next_id: 1,
        }
    }
}

impl WatchesPane {
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn selected_row(&self) -> Option<&WatchRow> {
        self.rows.get(self.selected)
    }

    pub fn get(&self, id: WatchId) -> Option<&WatchRow> {
        self.rows.iter().find(|w| w.id == id)
    }

    pub fn get_mut(&mut self, id: WatchId) -> Option<&mut WatchRow> {
        self.rows.iter_mut().find(|w| w.id == id)
    }

    /// Appends a watch already parsed from `expr`, selected, under a new id
    /// (minted here, and nowhere else).
    pub fn push_parsed(&mut self, expr: &str, watch: Watch) -> WatchId {
        let id = WatchId(self.next_id);
        self.next_id += 1;
        self.rows.push(WatchRow {
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
            depth: 0,
            expanded: false,
        });
        self.selected = self.rows.len() - 1;
        id
    }

    /// Opens the selected struct or array watch into a row per field or
    /// element, each a watch of its own (live, plotted, editable); returns
    /// the new watches for the poller.
    pub fn expand_selected(&mut self) -> Vec<(WatchId, Watch)> {
        let Some(row) = self.rows.get(self.selected) else {
            return Vec::new();
        };
        if row.expanded || !row.is_aggregate() {
            return Vec::new();
        }
        let depth = row.depth + 1;
        let mut added = Vec::new();
        for expr in row.children() {
            let text = expr.to_string();
            let Ok(watch) = crate::expr::parse_watch(&text) else {
                continue;
            };
            let id = WatchId(self.next_id);
            self.next_id += 1;
            added.push((id, watch));
        }
        let at = self.selected + 1;
        let rows = added.iter().map(|(id, watch)| WatchRow {
            id: *id,
            expr: watch.text.clone(),
            ty: None,
            watch: watch.clone(),
            addr: None,
            value: None,
            status: None,
            changed_at: None,
            history: VecDeque::new(),
            frozen: None,
            freeze_error: None,
            depth,
            expanded: false,
        });
        self.rows.splice(at..at, rows);
        self.rows[self.selected].expanded = true;
        added
    }

    /// Closes the selected row's tree, returning the watches it drops; on a
    /// closed row inside a tree, selects its parent instead.
    pub fn collapse_selected(&mut self) -> Vec<WatchId> {
        let Some(row) = self.rows.get(self.selected) else {
            return Vec::new();
        };
        if !row.expanded {
            let depth = row.depth;
            if depth > 0
                && let Some(parent) = self.rows[..self.selected]
                    .iter()
                    .rposition(|r| r.depth < depth)
            {
                self.selected = parent;
            }
            return Vec::new();
        }
        self.rows[self.selected].expanded = false;
        let end = self.subtree_end(self.selected);
        self.rows
            .drain(self.selected + 1..end)
            .map(|r| r.id)
            .collect()
    }

    /// One past the last row under row `i`.
    fn subtree_end(&self, i: usize) -> usize {
        let depth = self.rows[i].depth;
        self.rows[i + 1..]
            .iter()
            .position(|r| r.depth <= depth)
            .map_or(self.rows.len(), |n| i + 1 + n)
    }

    /// Removes the selected watch, and the rows of its tree with it.
    pub fn remove_selected(&mut self) -> Vec<WatchRow> {
        if self.selected >= self.rows.len() {
            return Vec::new();
        }
        let end = self.subtree_end(self.selected);
        let removed = self.rows.drain(self.selected..end).collect();
        self.selected = self.selected.min(self.rows.len().saturating_sub(1));
        removed
    }

    /// Takes a tick's readings and freeze errors; returns the freezes that
    /// began to fail (or fail differently), to be reported once.
    pub fn apply(
        &mut self,
        readings: Vec<WatchReading>,
        freeze_errors: Vec<(WatchId, String)>,
        now: Instant,
    ) -> Vec<(WatchId, String)> {
        let mut new = Vec::new();
        for (id, err) in freeze_errors {
            if let Some(w) = self.get_mut(id) {
                if w.freeze_error.as_ref() != Some(&err) {
                    new.push((id, err.clone()));
                }
                w.freeze_error = Some(err);
            }
        }
        for (i, reading) in readings.into_iter().enumerate() {
            // Readings come in watch order, unless the list changed meanwhile.
            let at = match self.rows.get(i) {
                Some(w) if w.id == reading.id => Some(i),
                _ => self.rows.iter().position(|w| w.id == reading.id),
            };
            if let Some(w) = at.and_then(|i| self.rows.get_mut(i)) {
                w.apply(reading, now);
            }
        }
        new
    }

    /// Forgets every freeze (the target exited).
    pub fn release_freezes(&mut self) {
        for w in &mut self.rows {
            w.frozen = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn trend_is_the_last_change_or_its_rate() {
        let mut pane = WatchesPane::default();
        let watch = crate::expr::parse_watch("0x10:u32").expect("parses");
        pane.push_parsed("0x10:u32", watch);
        let w = &mut pane.rows[0];
        let t0 = Instant::now();
        assert_eq!(w.trend_text(Trend::Delta), None, "one reading is no trend");
        w.history.push_back(Sample {
            at: t0,
            value: 10.0,
        });
        w.history.push_back(Sample {
            at: t0 + Duration::from_millis(500),
            value: 7.0,
        });
        assert_eq!(w.trend_text(Trend::Delta).as_deref(), Some("-3"));
        assert_eq!(w.trend_text(Trend::Rate).as_deref(), Some("-6/s"));
        assert_eq!(w.trend_text(Trend::Hidden), None);
        w.history.push_back(Sample {
            at: t0 + Duration::from_millis(1500),
            value: 7.25,
        });
        assert_eq!(w.trend_text(Trend::Delta).as_deref(), Some("+0.25"));
        assert_eq!(Trend::Hidden.next().next().next(), Trend::Hidden);
    }
}
