//! Where things sit on the screen. Both the update code (paging, mouse hits)
//! and the drawing code read these rects, so neither needs to ask the other.
//!
//! The screen is a two-line header, a tab line, the pane in a bordered block,
//! and a two-line footer (input and its error, or the key hints).

use ratatui::layout::{Constraint, Layout, Rect};

pub const HEADER: u16 = 2;
pub const TABS: u16 = 1;
pub const FOOTER: u16 = 2;
/// Bytes per hex row.
pub const HEX_COLS: u64 = 16;
/// Width of the hex view's address column, with its gap.
pub const HEX_ADDR_WIDTH: u16 = 14;

/// The rects of the screen's parts.
pub struct Areas {
    pub header: Rect,
    pub tabs: Rect,
    pub body: Rect,
    pub footer: Rect,
}

pub fn areas(area: Rect) -> Areas {
    let [header, tabs, body, footer] = Layout::vertical([
        Constraint::Length(HEADER),
        Constraint::Length(TABS),
        Constraint::Min(3),
        Constraint::Length(FOOTER),
    ])
    .areas(area);
    Areas {
        header,
        tabs,
        body,
        footer,
    }
}

/// Rows inside the pane's border for a terminal of `size`.
pub fn body_rows(size: (u16, u16)) -> usize {
    size.1.saturating_sub(HEADER + TABS + FOOTER + 2) as usize
}

/// The row inside the pane's border at screen row `y`, if it is one.
pub fn body_row_at(size: (u16, u16), y: u16) -> Option<usize> {
    let first = HEADER + TABS + 1;
    let row = y.checked_sub(first)? as usize;
    (row < body_rows(size)).then_some(row)
}

fn byte_x(col: u64) -> u64 {
    col * 3 + u64::from(col >= 8)
}

/// The byte column (0..16) under screen column `x`, for mouse clicks.
pub fn hex_col_at(x: u16) -> Option<u64> {
    let rel = u64::from(x.checked_sub(1 + HEX_ADDR_WIDTH)?);
    (0..HEX_COLS).find(|c| rel >= byte_x(*c) && rel < byte_x(*c) + 3)
}

/// The first row shown so that `selected` is visible in `rows` rows.
pub fn scroll_offset(selected: usize, rows: usize) -> usize {
    if rows == 0 || selected < rows {
        0
    } else {
        selected + 1 - rows
    }
}

/// A centred rectangle of at most `w` × `h` inside `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// `text` in at most `width` characters: whole when it fits, otherwise cut
/// in the middle with `…`, so both its start and its end stay readable.
pub fn fit(text: &str, width: usize) -> String {
    let len = text.chars().count();
    if len <= width {
        return text.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let keep = width - 1;
    let head = keep.div_ceil(2);
    let tail = keep - head;
    let mut out: String = text.chars().take(head).collect();
    out.push('…');
    out.extend(text.chars().skip(len - tail));
    out
}

/// `text` broken into lines of at most `width` characters, at spaces where
/// it can; a word longer than the line is cut across lines.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let mut word: Vec<char> = word.chars().collect();
        let len = line.chars().count();
        if len > 0 && len + 1 + word.len() <= width {
            line.push(' ');
            line.extend(word);
            continue;
        }
        if len > 0 {
            lines.push(std::mem::take(&mut line));
        }
        while word.len() > width {
            lines.push(word.drain(..width).collect());
        }
        line.extend(word);
    }
    lines.push(line);
    lines
}

/// The help overlay: where it goes, its columns, and its lines.
pub struct HelpLayout {
    pub popup: Rect,
    /// One rect per column, inside the border.
    pub columns: Vec<Rect>,
    /// Per column: (keys, text) per line; keys only on an entry's first line.
    pub lines: Vec<Vec<(String, String)>>,
    pub key_width: u16,
    /// Lines that fit in the popup.
    pub visible: usize,
}

impl HelpLayout {
    /// How far the lines can scroll.
    pub fn max_scroll(&self) -> usize {
        let longest = self.lines.iter().map(Vec::len).max().unwrap_or(0);
        longest.saturating_sub(self.visible)
    }
}

/// Lays out the help's (keys, what) entries on a screen: two columns when
/// both fit without cutting short descriptions, otherwise one; text wraps,
/// and what does not fit in height scrolls.
pub fn help(screen: Rect, entries: &[(String, &str)]) -> HelpLayout {
    const GAP: u16 = 2;
    const MIN_TEXT: u16 = 36;
    let key_width = entries
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(1)
        .clamp(1, 24) as u16;
    let width = screen.width.min(150);
    let inner = width.saturating_sub(2);
    let two = inner >= 2 * (key_width + GAP + MIN_TEXT) + GAP;
    let count = if two { 2 } else { 1 };
    let column_width = (inner - GAP * (count - 1)) / count;
    let text_width = column_width.saturating_sub(key_width + GAP).max(8);
    let half = entries.len().div_ceil(count as usize);
    let lines: Vec<Vec<(String, String)>> = entries
        .chunks(half.max(1))
        .map(|chunk| {
            chunk
                .iter()
                .flat_map(|(keys, what)| {
                    wrap(what, text_width as usize)
                        .into_iter()
                        .enumerate()
                        .map(|(i, l)| (if i == 0 { keys.clone() } else { String::new() }, l))
                        .collect::<Vec<_>>()
                })
                .collect()
        })
        .collect();
    let longest = lines.iter().map(Vec::len).max().unwrap_or(0) as u16;
    let popup = centered(screen, width, longest.saturating_add(2));
    let body = Rect {
        x: popup.x + 1,
        y: popup.y + 1,
        width: popup.width.saturating_sub(2),
        height: popup.height.saturating_sub(2),
    };
    let columns = (0..count)
        .map(|i| Rect {
            x: body.x + i * (column_width + GAP),
            width: column_width.min(body.width),
            ..body
        })
        .collect();
    HelpLayout {
        popup,
        columns,
        lines,
        key_width,
        visible: usize::from(body.height),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_rows_match_the_layout() {
        let area = Rect::new(0, 0, 100, 30);
        let a = areas(area);
        assert_eq!(body_rows((100, 30)), a.body.height as usize - 2);
        assert_eq!(body_row_at((100, 30), a.body.y + 1), Some(0));
        assert_eq!(body_row_at((100, 30), a.body.y), None);
    }

    #[test]
    fn mouse_columns_map_to_bytes() {
        let first = 1 + HEX_ADDR_WIDTH;
        assert_eq!(hex_col_at(first), Some(0));
        assert_eq!(hex_col_at(first + 3), Some(1));
        assert_eq!(hex_col_at(first + 24), None);
        assert_eq!(hex_col_at(first + 25), Some(8));
        assert_eq!(hex_col_at(first + 25 + 7 * 3), Some(15));
        assert_eq!(hex_col_at(first + 25 + 8 * 3), None);
        assert_eq!(hex_col_at(3), None);
    }

    #[test]
    fn fit_cuts_in_the_middle() {
        assert_eq!(fit("abcdef", 6), "abcdef");
        assert_eq!(fit("abcdefgh", 5), "ab…gh");
        assert_eq!(fit("abcdefgh", 1), "…");
        assert_eq!(fit("abcdefgh", 0), "");
        assert_eq!(fit("*(pvtui::demo::PLAYER+16):u32[8]", 12), "*(pvtu…32[8]");
    }

    #[test]
    fn wrap_breaks_at_spaces_and_cuts_long_words() {
        assert_eq!(wrap("one two three", 7), ["one two", "three"]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 4), [""]);
    }

    #[test]
    fn help_uses_two_columns_when_wide_and_scrolls_when_short() {
        let entries: Vec<(String, &str)> = (0..40)
            .map(|i| (format!("k{i}"), "a description of what the key does"))
            .collect();
        let wide = help(Rect::new(0, 0, 250, 60), &entries);
        assert_eq!(wide.columns.len(), 2);
        assert_eq!(wide.max_scroll(), 0);
        let small = help(Rect::new(0, 0, 80, 24), &entries);
        assert_eq!(small.columns.len(), 1);
        assert_eq!(small.visible, 22);
        assert_eq!(small.max_scroll(), 40 - 22);
        // Nothing is cut: every line fits its column.
        for (keys, text) in &small.lines[0] {
            assert!(keys.len() <= usize::from(small.key_width));
            assert!(text.chars().count() + usize::from(small.key_width) + 2 <= 78);
        }
    }
}
