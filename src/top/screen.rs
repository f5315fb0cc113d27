//! The live screen: ratatui over crossterm, redrawn every second or on a key; `s` changes the order,
//! `r` reverses it, `q` (or Esc, or Ctrl-C) quits. A reading that fails is shown in place of the last
//! good one's title, and reading goes on: a port-forward that drops recovers when it is back.

use std::time::Instant;

use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Row, Table};
use ratatui::{DefaultTerminal, Frame};

use super::model::{Reading, Sort, View, HEADER};
use super::{read, Agent, TopError, REFRESH};

pub fn live(agent: &Agent, first: Reading) -> Result<(), TopError> {
    let mut terminal = ratatui::try_init().map_err(TopError::Terminal)?;
    let result = run(&mut terminal, agent, first);
    ratatui::restore();
    result
}

struct State {
    before: Option<Reading>,
    now: Reading,
    sort: Sort,
    reversed: bool,
    error: Option<String>,
}

fn run(terminal: &mut DefaultTerminal, agent: &Agent, first: Reading) -> Result<(), TopError> {
    let mut state = State {
        before: None,
        now: first,
        sort: Sort::BytesBehind,
        reversed: false,
        error: None,
    };
    let mut next = Instant::now() + REFRESH;
    loop {
        let mut view = View::new(agent.url(), &state.now, state.before.as_ref(), state.sort);
        if state.reversed {
            view.rows.reverse();
        }
        if let Some(error) = &state.error {
            view.title = format!("{} — {error}", view.title);
        }
        terminal
            .draw(|frame| draw(frame, &view))
            .map_err(TopError::Terminal)?;
        let wait = next.saturating_duration_since(Instant::now());
        if event::poll(wait).map_err(TopError::Terminal)? {
            if let Event::Key(key) = event::read().map_err(TopError::Terminal)? {
                if key.kind != KeyEventKind::Press {
                    continue;
                }
                match key.code {
                    KeyCode::Char('q') | KeyCode::Esc => return Ok(()),
                    KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                        return Ok(())
                    }
                    KeyCode::Char('s') => state.sort = state.sort.next(),
                    KeyCode::Char('r') => state.reversed = !state.reversed,
                    _ => {}
                }
            }
            continue;
        }
        next = Instant::now() + REFRESH;
        match read(agent) {
            Ok(reading) => {
                state.before = Some(std::mem::replace(&mut state.now, reading));
                state.error = None;
            }
            Err(error) => state.error = Some(error.to_string()),
        }
    }
}

fn draw(frame: &mut Frame, view: &View) {
    let summary_height = view.summary.len() as u16 + 1;
    let [top, table] = Layout::vertical([Constraint::Length(summary_height), Constraint::Min(3)])
        .areas(frame.area());
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let mut lines = vec![Line::styled(view.title.clone(), bold)];
    for (label, value) in &view.summary {
        lines.push(Line::from(format!("{label:<11} {value}")));
    }
    frame.render_widget(Paragraph::new(lines), top);
    let rows = view.rows.iter().map(|r| Row::new(r.clone()));
    let widths = [
        Constraint::Length(14),
        Constraint::Fill(2),
        Constraint::Fill(1),
        Constraint::Length(20),
        Constraint::Length(10),
        Constraint::Length(7),
        Constraint::Length(10),
        Constraint::Length(10),
    ];
    let files = Table::new(rows, widths)
        .header(Row::new(HEADER.to_vec()).style(bold))
        .block(Block::bordered().title(format!(" Files ({}) ", view.rows.len())));
    frame.render_widget(files, table);
}
