//! The watches pane: the list the user built, each watch's latest reading
//! and history, the selection and the chart overlay.

use std::collections::VecDeque;
use std::time::Instant;

use crate::expr::{Status, Type, Value, Watch, WatchReading};
use crate::poller::WatchId;

/// How many values a watch keeps for its sparkline and chart.
pub const HISTORY: usize = 240;

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
}

impl WatchRow {
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
        });
        self.selected = self.rows.len() - 1;
        id
    }

    /// Removes the selected watch.
    pub fn remove_selected(&mut self) -> Option<WatchRow> {
        if self.selected >= self.rows.len() {
            return None;
        }
        let w = self.rows.remove(self.selected);
        self.selected = self.selected.min(self.rows.len().saturating_sub(1));
        Some(w)
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
