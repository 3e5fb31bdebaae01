//! Interactive line editing on a terminal: history, tab completion of
//! command names and help topics, and the grey argument hints redis-cli
//! shows after a command name.

use rustyline::completion::Completer;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::Validator;
use rustyline::{Context, Editor, Helper};
use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};

/// `:set hints` / `:set nohints`.
pub static HINTS: AtomicBool = AtomicBool::new(true);

/// What the helper needs from one help entry.
#[derive(Clone)]
pub struct Topic {
    pub full: String,
    pub argv: Vec<String>,
    pub params: String,
    pub is_group: bool,
}

pub struct CliHelper {
    pub topics: Vec<Topic>,
    /// Width of the prompt being shown: linenoise cuts the hint at the
    /// right edge of the terminal, and shows none once the line reaches it.
    pub prompt_len: usize,
    /// The hint as it is drawn. When it reaches the last column, rustyline
    /// is given one character less (it would wrap the cursor onto a new
    /// row, which linenoise does not), and highlight_hint() draws it whole.
    shown: RefCell<String>,
}

/// Terminal width as linenoise reads it (TIOCGWINSZ on stdout), 80 if unknown.
fn term_columns() -> usize {
    // SAFETY: TIOCGWINSZ writes a winsize into the zeroed struct we pass.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::ioctl(1, libc::TIOCGWINSZ, &mut ws) };
    if r == -1 || ws.ws_col == 0 {
        80
    } else {
        ws.ws_col as usize
    }
}

impl Completer for CliHelper {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        _pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        let (start, groups) = if line.len() >= 5 && line[..5].eq_ignore_ascii_case("help ") {
            let rest = &line[5..];
            (line.len() - rest.trim_start().len(), true)
        } else {
            (0, false)
        };
        let typed = &line[start..];
        let mut out = Vec::new();
        for t in &self.topics {
            if t.is_group && !groups {
                continue;
            }
            if t.full.len() >= typed.len()
                && t.full.is_char_boundary(typed.len())
                && t.full[..typed.len()].eq_ignore_ascii_case(typed)
            {
                out.push(format!("{}{}", &line[..start], t.full));
            }
        }
        Ok((0, out))
    }
}

impl Hinter for CliHelper {
    type Hint = String;

    fn hint(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> Option<String> {
        if !HINTS.load(Ordering::Relaxed) || pos < line.len() {
            return None;
        }
        let cols = term_columns();
        if self.prompt_len + line.len() >= cols {
            return None;
        }
        let room = cols - (self.prompt_len + line.len());
        let argv = super::format::split_args(line.as_bytes())?;
        if argv.is_empty() {
            return None;
        }
        let argv: Vec<String> = argv
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let endspace = line.ends_with(|c: char| c.is_ascii_whitespace());
        let mut best: Option<&Topic> = None;
        let mut matchlen = 0;
        for t in self.topics.iter().filter(|t| !t.is_group) {
            let n = t.argv.len();
            if n <= argv.len()
                && n > matchlen
                && t.argv
                    .iter()
                    .zip(argv.iter())
                    .all(|(a, b)| a.eq_ignore_ascii_case(b))
            {
                matchlen = n;
                best = Some(t);
            }
        }
        let t = best?;
        let mut hint: &str = &t.params;
        let mut toremove = argv.len() - matchlen;
        while toremove > 0 && !hint.is_empty() {
            if hint.starts_with('[') {
                break;
            }
            if hint.starts_with(' ') {
                toremove -= 1;
            }
            let mut cut = 1;
            while !hint.is_char_boundary(cut) {
                cut += 1;
            }
            hint = &hint[cut..];
        }
        let mut hint = if endspace {
            hint.to_string()
        } else {
            format!(" {}", hint)
        };
        if hint.len() > room {
            let mut cut = room;
            while !hint.is_char_boundary(cut) {
                cut -= 1;
            }
            hint.truncate(cut);
        }
        *self.shown.borrow_mut() = hint.clone();
        if hint.len() == room {
            hint.pop();
        }
        Some(hint)
    }
}

impl Highlighter for CliHelper {
    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        let shown = self.shown.borrow();
        let text = if shown.len() > hint.len() && shown.starts_with(hint) {
            shown.as_str()
        } else {
            hint
        };
        Cow::Owned(format!("\x1b[0;90;49m{}\x1b[0m", text))
    }
}

impl Validator for CliHelper {}
impl Helper for CliHelper {}

pub type LineEditor = Editor<CliHelper, DefaultHistory>;

pub fn new_editor(topics: Vec<Topic>) -> Option<LineEditor> {
    use rustyline::config::Configurer;
    // linenoise has neither bracketed paste (a pasted block runs line by
    // line) nor synchronized-update escapes.
    let mut b = rustyline::Config::builder()
        .max_history_size(100)
        .ok()?
        .auto_add_history(false)
        .completion_type(rustyline::CompletionType::Circular)
        .bracketed_paste(false);
    b.enable_synchronized_output(false);
    let cfg = b.build();
    let mut ed = Editor::with_config(cfg).ok()?;
    ed.set_helper(Some(CliHelper {
        topics,
        prompt_len: 0,
        shown: RefCell::new(String::new()),
    }));
    Some(ed)
}

/// Add a line to the history and rewrite the history file (plain lines,
/// the format redis-cli uses).
pub fn history_add(ed: &mut LineEditor, line: &str, file: Option<&std::path::Path>) {
    let _ = ed.add_history_entry(line);
    if let Some(f) = file {
        let mut data = String::new();
        for l in ed.history() {
            data.push_str(l);
            data.push('\n');
        }
        let _ = std::fs::write(f, data);
    }
}
