//! Where things sit on the screen. Both the update code (paging, mouse hits)
//! and the drawing code read these rects, so neither needs to ask the other.
//!
//! The screen is a two-line header, a tab line, the pane in a bordered block,
//! and a two-line footer (input and its error, or the key hints).

use ratatui::layout::{Constraint, Layout, Rect};

pub const HEADER: u16 = 2;
pub const TABS: u16 = 1;
pub const FOOTER: u16 = 2;
/// Bytes per hex row when the terminal is wide enough for them.
pub const HEX_COLS: u64 = 16;
/// Bytes per hex row on a terminal too narrow for [`HEX_COLS`].
pub const HEX_COLS_NARROW: u64 = 8;
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

/// Lines of the detail under the watches table: the selected watch's
/// expression, value and status, whole.
pub const DETAIL: u16 = 4;
/// Lines of the hex view's inspector (the bytes under the cursor as each
/// type) on a terminal `width` columns wide: one more where rows are half.
pub fn hex_inspector(width: u16) -> u16 {
    if hex_cols(width) == HEX_COLS { 3 } else { 4 }
}

/// Rows of bytes the hex view shows for a terminal of `size`.
pub fn hex_rows(size: (u16, u16)) -> usize {
    body_rows(size).saturating_sub(usize::from(hex_inspector(size.0)))
}

/// `parts` laid out left to right, `sep` between them, starting a new line
/// where the next would not fit in `width`.
pub fn flow(parts: &[String], width: usize, sep: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for part in parts {
        let len = line.chars().count();
        if len > 0 && len + sep.len() + part.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push_str(sep);
        }
        line.push_str(part);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Lines of the target's output shown under the watches.
const OUTPUT_BOX: u16 = 5;

/// `area` less its border.
pub fn inner(area: Rect) -> Rect {
    Rect {
        x: area.x.saturating_add(1),
        y: area.y.saturating_add(1),
        width: area.width.saturating_sub(2),
        height: area.height.saturating_sub(2),
    }
}

/// The parts of the watches pane: the bordered block, the table inside it
/// (header row first), the detail lines, and the target's output below.
pub struct WatchesAreas {
    pub block: Rect,
    pub table: Rect,
    pub detail: Option<Rect>,
    pub output: Option<Rect>,
}

pub fn watches(body: Rect, output: bool, detail: bool) -> WatchesAreas {
    let (block, output) = if output {
        let [a, b] =
            Layout::vertical([Constraint::Min(4), Constraint::Length(OUTPUT_BOX)]).areas(body);
        (a, Some(b))
    } else {
        (body, None)
    };
    let inside = inner(block);
    let (table, detail) = if detail && inside.height > DETAIL + 2 {
        let [t, d] =
            Layout::vertical([Constraint::Min(2), Constraint::Length(DETAIL)]).areas(inside);
        (t, Some(d))
    } else {
        (inside, None)
    };
    WatchesAreas {
        block,
        table,
        detail,
        output,
    }
}

/// The write log inside its border: the table (header row first) and,
/// where there is room, the selected entry whole under it.
pub fn log(body: Rect, result: Option<&str>) -> (Rect, Option<Rect>) {
    let inside = inner(body);
    // The selected entry's result wraps whole where the pane has room for
    // it: up to half the pane, never fewer than DETAIL lines.
    let need = result.map_or(DETAIL, |r| {
        let lines = wrap(&format!("result: {r}"), usize::from(inside.width)).len();
        u16::try_from(lines + 2).unwrap_or(u16::MAX)
    });
    let height = need.clamp(DETAIL, DETAIL.max(inside.height / 2));
    if inside.height > height + 2 {
        let [t, d] =
            Layout::vertical([Constraint::Min(2), Constraint::Length(height)]).areas(inside);
        (t, Some(d))
    } else {
        (inside, None)
    }
}

/// The search pane inside its border: the query line, progress, results.
pub fn search(body: Rect) -> [Rect; 3] {
    Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(2),
        Constraint::Min(1),
    ])
    .areas(inner(body))
}

/// The row of a table in `table` (a header row, then the rows from the
/// scroll offset that keeps `selected` in view) at screen row `y`.
pub fn table_row_at(table: Rect, y: u16, selected: usize, len: usize) -> Option<usize> {
    let first = table.y.checked_add(1)?;
    let rel = usize::from(y.checked_sub(first)?);
    let rows = usize::from(table.height.saturating_sub(1));
    if rel >= rows {
        return None;
    }
    let i = scroll_offset(selected, rows) + rel;
    (i < len).then_some(i)
}

/// A table column's needs: the width its content wants, and the least it
/// can do with (its text is cut in the middle below `want`).
#[derive(Clone, Copy, Debug)]
pub struct Column {
    pub want: u16,
    pub min: u16,
}

/// Widths for columns sharing `width` with `spacing` between them. Each
/// gets what it wants when all fit; otherwise the narrow ones stay whole
/// and the widest give way, none below its minimum. What is left over goes
/// to column `grow`.
pub fn column_widths(width: u16, columns: &[Column], spacing: u16, grow: usize) -> Vec<u16> {
    let gaps = spacing.saturating_mul(columns.len().saturating_sub(1) as u16);
    let room = width.saturating_sub(gaps);
    let mut widths: Vec<u16> = columns.iter().map(|c| c.min.min(c.want)).collect();
    let mut left = room.saturating_sub(widths.iter().sum());
    // Water-filling: one cell at a time to the narrowest column still short.
    while left > 0 {
        let Some(i) = (0..columns.len())
            .filter(|i| widths[*i] < columns[*i].want)
            .min_by_key(|i| widths[*i])
        else {
            break;
        };
        widths[i] += 1;
        left -= 1;
    }
    if let Some(w) = widths.get_mut(grow) {
        *w += left;
    }
    widths
}

/// The columns to show in `width`: all when their minimums fit, else
/// whole columns dropped in `drop_order` until they do, so no cell is cut
/// below its minimum without a `…`. Indices in their original order.
pub fn columns_that_fit(
    width: u16,
    columns: &[Column],
    spacing: u16,
    drop_order: &[usize],
) -> Vec<usize> {
    let mut kept: Vec<usize> = (0..columns.len()).collect();
    let need = |kept: &[usize]| -> u32 {
        let cells: u32 = kept
            .iter()
            .map(|&i| u32::from(columns[i].min.min(columns[i].want)))
            .sum();
        cells + u32::from(spacing) * kept.len().saturating_sub(1) as u32
    };
    for drop in drop_order {
        if need(&kept) <= u32::from(width) || kept.len() <= 1 {
            break;
        }
        kept.retain(|i| i != drop);
    }
    kept
}

/// The row inside the pane's border at screen row `y`, if it is one.
pub fn body_row_at(size: (u16, u16), y: u16) -> Option<usize> {
    let first = HEADER + TABS + 1;
    let row = y.checked_sub(first)? as usize;
    (row < body_rows(size)).then_some(row)
}

/// Where byte column `col` of a row of `cols` starts, from the first byte:
/// three cells a byte, and one more between the row's halves.
pub fn hex_byte_x(col: u64, cols: u64) -> u64 {
    col * 3 + u64::from(col >= cols / 2)
}

/// Cells a hex row of `cols` bytes takes inside the border: the address,
/// the bytes, and the ASCII column between its two bars.
pub fn hex_row_width(cols: u64) -> u64 {
    u64::from(HEX_ADDR_WIDTH) + hex_byte_x(cols, cols) + cols + 2
}

/// Bytes per hex row on a terminal `width` columns wide: a full row when
/// it fits inside the pane's border, else a half row, so the ASCII column
/// is never cut off.
pub fn hex_cols(width: u16) -> u64 {
    let inside = u64::from(width.saturating_sub(2));
    if hex_row_width(HEX_COLS) <= inside {
        HEX_COLS
    } else {
        HEX_COLS_NARROW
    }
}

/// The byte column (0..`cols`) under screen column `x`, for mouse clicks.
pub fn hex_col_at(x: u16, cols: u64) -> Option<u64> {
    let rel = u64::from(x.checked_sub(1 + HEX_ADDR_WIDTH)?);
    (0..cols).find(|c| rel >= hex_byte_x(*c, cols) && rel < hex_byte_x(*c, cols) + 3)
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

/// `text` in at most `width` characters: whole when it fits, otherwise cut
/// after its last whole word that leaves room for a closing `…`. For prose,
/// whose start says most; [`fit`] keeps both ends of names and numbers.
pub fn fit_end(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let head: String = text.chars().take(width - 1).collect();
    // Cut at a space when the text breaks there, so no word is cut in half.
    let next = text.chars().nth(width - 1);
    let cut = if next == Some(' ') {
        head.trim_end()
    } else {
        match head.rfind(' ') {
            Some(at) if !head[..at].trim_end().is_empty() => head[..at].trim_end(),
            _ => head.as_str(),
        }
    };
    format!("{cut}…")
}

/// `parts` joined by `sep` in at most `width` characters: the first ones
/// that fit, whole (they come most important first); when not even the
/// first fits, it ends with `…`.
pub fn fit_parts<S: AsRef<str>>(parts: &[S], sep: &str, width: usize) -> String {
    let mut line = String::new();
    for part in parts {
        let part = part.as_ref();
        let sep = if line.is_empty() { "" } else { sep };
        if line.chars().count() + sep.chars().count() + part.chars().count() > width {
            break;
        }
        line.push_str(sep);
        line.push_str(part);
    }
    match parts.first() {
        Some(first) if line.is_empty() => fit_end(first.as_ref(), width),
        _ => line,
    }
}

/// `key` then `text` wrapped to `width`, its lines after the first indented
/// to `text`'s column: a description beside its key, kept in its column.
pub fn hang(key: &str, text: &str, width: usize) -> Vec<String> {
    let indent = key.chars().count();
    let pad = " ".repeat(indent);
    wrap(text, width.saturating_sub(indent).max(1))
        .into_iter()
        .enumerate()
        .map(|(i, l)| format!("{}{l}", if i == 0 { key } else { &pad }))
        .collect()
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
    fn columns_give_way_whole_in_their_order() {
        let col = |min| Column { want: min, min };
        let cols = [col(12), col(12), col(4), col(10)];
        // 12+12+4+10 and three gaps: 41.
        assert_eq!(columns_that_fit(41, &cols, 1, &[3, 2, 1]), [0, 1, 2, 3]);
        assert_eq!(columns_that_fit(40, &cols, 1, &[3, 2, 1]), [0, 1, 2]);
        assert_eq!(columns_that_fit(25, &cols, 1, &[3, 2, 1]), [0, 1]);
        // The last one left is kept however narrow: it is cut with a mark.
        assert_eq!(columns_that_fit(5, &cols, 1, &[3, 2, 1, 0]), [0]);
    }

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
        assert_eq!(hex_col_at(first, 16), Some(0));
        assert_eq!(hex_col_at(first + 3, 16), Some(1));
        assert_eq!(hex_col_at(first + 24, 16), None);
        assert_eq!(hex_col_at(first + 25, 16), Some(8));
        assert_eq!(hex_col_at(first + 25 + 7 * 3, 16), Some(15));
        assert_eq!(hex_col_at(first + 25 + 8 * 3, 16), None);
        assert_eq!(hex_col_at(3, 16), None);
    }

    #[test]
    fn mouse_columns_map_to_bytes_in_a_half_row() {
        let first = 1 + HEX_ADDR_WIDTH;
        assert_eq!(hex_col_at(first, 8), Some(0));
        assert_eq!(hex_col_at(first + 3 * 3 + 2, 8), Some(3));
        assert_eq!(hex_col_at(first + 12, 8), None, "the gap between halves");
        assert_eq!(hex_col_at(first + 13, 8), Some(4));
        assert_eq!(hex_col_at(first + 13 + 3 * 3, 8), Some(7));
        assert_eq!(hex_col_at(first + 13 + 4 * 3, 8), None, "the ASCII column");
    }

    #[test]
    fn hex_rows_fit_inside_the_border_at_every_width() {
        // A full row needs 81 cells inside the border: 83 columns.
        assert_eq!(hex_row_width(16), 81);
        assert_eq!(hex_cols(83), 16);
        assert_eq!(hex_cols(82), 8);
        assert_eq!(hex_cols(80), 8);
        for width in 51..300u16 {
            let cols = hex_cols(width);
            assert!(hex_row_width(cols) <= u64::from(width - 2), "at {width}");
        }
    }

    #[test]
    fn columns_fit_whole_when_they_can_and_share_fairly_when_not() {
        let cols = [
            Column { want: 30, min: 8 },
            Column { want: 4, min: 4 },
            Column { want: 40, min: 8 },
        ];
        assert_eq!(column_widths(100, &cols, 1, 0), [54, 4, 40]);
        // 74 wanted, 50 there: the short column stays whole, the others share.
        assert_eq!(column_widths(52, &cols, 1, 0), [23, 4, 23]);
        // Never below the minimum, even if the row overflows.
        assert_eq!(column_widths(10, &cols, 1, 0), [8, 4, 8]);
    }

    #[test]
    fn table_rows_follow_the_scroll() {
        let table = Rect::new(1, 5, 50, 11);
        assert_eq!(table_row_at(table, 5, 0, 20), None, "the header");
        assert_eq!(table_row_at(table, 6, 0, 20), Some(0));
        assert_eq!(table_row_at(table, 15, 0, 20), Some(9));
        assert_eq!(table_row_at(table, 16, 0, 20), None, "below the table");
        // With the 15th selected, rows 6..15 show.
        assert_eq!(table_row_at(table, 6, 14, 20), Some(5));
        assert_eq!(table_row_at(table, 8, 0, 2), None, "past the last row");
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
    fn fit_end_cuts_after_a_whole_word() {
        assert_eq!(fit_end("one two three", 13), "one two three");
        assert_eq!(fit_end("one two three", 12), "one two…");
        assert_eq!(fit_end("one two three", 8), "one two…");
        assert_eq!(fit_end("one two three", 7), "one…");
        assert_eq!(fit_end("abcdefgh", 5), "abcd…");
        assert_eq!(fit_end("abc", 0), "");
        for width in 1..40 {
            let text = "Press a and type an address with a type, e.g. [heap]+0x10:i64.";
            let cut = fit_end(text, width);
            assert!(cut.chars().count() <= width, "{cut:?}");
            assert!(cut == text || cut.ends_with('…'), "{cut:?}");
        }
    }

    #[test]
    fn fit_parts_drops_whole_parts_from_the_end() {
        let parts = ["every 100 ms", "late 0.0 ms", "read 0.0 ms", "tick 42"];
        assert_eq!(
            fit_parts(&parts, " · ", 80),
            "every 100 ms · late 0.0 ms · read 0.0 ms · tick 42"
        );
        assert_eq!(
            fit_parts(&parts, " · ", 40),
            "every 100 ms · late 0.0 ms · read 0.0 ms"
        );
        assert_eq!(fit_parts(&parts, " · ", 20), "every 100 ms");
        assert_eq!(fit_parts(&parts, " · ", 9), "every…");
        assert_eq!(fit_parts::<&str>(&[], " · ", 9), "");
    }

    #[test]
    fn hang_keeps_continuations_in_their_column() {
        let lines = hang("  u32 1  ", "a value scan; then n narrows", 24);
        assert_eq!(lines, ["  u32 1  a value scan;", "         then n narrows"]);
        assert!(lines.iter().all(|l| l.chars().count() <= 24));
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
