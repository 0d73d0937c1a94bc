//! The output pane: the last lines a target started by pvtui printed.

use std::collections::VecDeque;

/// Target output lines kept.
const OUTPUT_LINES: usize = 500;

#[derive(Clone, Debug, Default)]
pub struct OutputPane {
    pub lines: VecDeque<String>,
}

impl OutputPane {
    pub fn push(&mut self, line: String) {
        if self.lines.len() == OUTPUT_LINES {
            self.lines.pop_front();
        }
        self.lines.push_back(line);
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}
