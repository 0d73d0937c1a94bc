//! The header: the target, its state, the kernel access mode, the poll
//! schedule, and the last message (or the exit banner).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::app::{App, Level, TargetState};
use crate::tui::layout::{fit, fit_parts};
use crate::tui::view::printable;

fn millis(d: std::time::Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let [first, second] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(area);
    let t = &app.theme;
    let state = match &app.process.state {
        TargetState::Running if app.poll.paused => Span::styled("● paused", t.warning()),
        TargetState::Running => Span::styled("● running", t.ok()),
        TargetState::Stopped => Span::styled("■ stopped", t.warning()),
        TargetState::Exited(Some(how)) => Span::styled(format!("■ {how}"), t.error()),
        TargetState::Exited(None) => Span::styled("■ exited", t.error()),
    };
    let sep = || Span::styled(" │ ", t.header());
    let who = format!("pid {} {} ", app.process.pid, printable(&app.process.name));
    // Most telling first: on a narrow terminal the last give way, whole.
    let stats = [
        format!("every {} ms", app.poll.interval.as_millis()),
        format!("late {}", millis(app.poll.lateness)),
        format!("read {}", millis(app.poll.took)),
        format!("tick {}", app.poll.tick),
    ];
    // Other targets follow the main one, each with its own state, as many
    // as fit beside the interval; the rest are counted.
    let fixed = " pvtui ".len() + 2 * 3 + who.chars().count() + state.content.chars().count();
    let room = usize::from(first.width).saturating_sub(fixed + stats[0].chars().count());
    let mut others = Vec::new();
    let mut others_len = 0;
    for (i, peer) in app.peers.list.iter().enumerate() {
        let name = format!("pid {} {} ", peer.pid, printable(&peer.name));
        let peer_state = match &peer.state {
            TargetState::Running if app.poll.paused => Span::styled("● paused", t.warning()),
            TargetState::Running => Span::styled("● running", t.ok()),
            TargetState::Stopped => Span::styled("■ stopped", t.warning()),
            TargetState::Exited(_) => Span::styled("■ exited", t.error()),
        };
        let len = 3 + name.chars().count() + peer_state.content.chars().count();
        let left = app.peers.list.len() - i - 1;
        let more = if left > 0 {
            format!(" │ +{left} more").chars().count()
        } else {
            0
        };
        if others_len + len + more > room {
            let more = format!("+{} more", left + 1);
            others_len += 3 + more.chars().count();
            others.push(sep());
            others.push(Span::styled(more, t.header()));
            break;
        }
        others_len += len;
        others.push(sep());
        others.push(Span::styled(name, t.header()));
        others.push(peer_state);
    }
    // The schedule gives way first on a narrow terminal.
    let used = fixed + others_len;
    let stats = fit_parts(&stats, " · ", usize::from(first.width).saturating_sub(used));
    let mut spans = vec![
        Span::styled(" pvtui ", t.header()),
        sep(),
        Span::styled(who, t.header()),
        state,
    ];
    spans.extend(others);
    spans.push(sep());
    spans.push(Span::styled(stats, t.header()));
    let line = Line::from(spans);
    frame.render_widget(Paragraph::new(line).style(t.header()), first);
    if app.exited() {
        let how = match &app.process.state {
            TargetState::Exited(Some(how)) => how.clone(),
            _ => "exited".into(),
        };
        let text = format!(
            " TARGET {} — last values kept, editing disabled (q to quit)",
            how.to_uppercase()
        );
        frame.render_widget(
            Paragraph::new(Line::styled(text, t.banner())).style(t.banner()),
            second,
        );
        return;
    }
    // The kernel access mode sits at the right; the last message takes the
    // rest, or the whole line when it needs it.
    let access = format!("{} ", app.process.access.describe());
    let message_len = app.message.as_ref().map_or(0, |(_, text)| {
        crate::text::escape_lines(text).chars().count() + 2
    });
    let mut width = (access.chars().count() as u16).min(second.width);
    if message_len + usize::from(width) > usize::from(second.width) {
        width = 0;
    }
    let [message_area, access_area] =
        Layout::horizontal([Constraint::Min(0), Constraint::Length(width)]).areas(second);
    frame.render_widget(
        Paragraph::new(Line::styled(access, t.muted())).right_aligned(),
        access_area,
    );
    if let Some((level, text)) = &app.message {
        let style = match level {
            Level::Info => t.accent(),
            Level::Warning => t.warning(),
            Level::Error => t.error(),
        };
        // Messages quote names and paths from the target: escaped once
        // more here (backslashes kept, so escaped text is not doubled).
        let text = crate::text::escape_lines(text).replace('\n', " ");
        let text = fit(&text, usize::from(message_area.width).saturating_sub(1));
        frame.render_widget(
            Paragraph::new(Line::styled(format!(" {text}"), style)),
            message_area,
        );
    }
}
