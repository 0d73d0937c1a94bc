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
}
