//! Reading redis.conf files and `--option value` command lines.

use super::Config;
use crate::protocol::parse::split_args;

/// Where a configuration problem was found, for the FATAL report.
#[derive(Debug)]
pub struct ConfigError {
    pub line_no: Option<usize>,
    pub line: Option<String>,
    pub msg: String,
}

impl ConfigError {
    /// The report Redis prints before exiting.
    pub fn report(&self) -> String {
        let mut s = format!(
            "\n*** FATAL CONFIG FILE ERROR (Redis {}) ***\n",
            crate::REDIS_VERSION
        );
        if let (Some(n), Some(l)) = (self.line_no, &self.line) {
            s.push_str(&format!(
                "Reading the configuration file, at line {n}\n>>> '{l}'\n"
            ));
        }
        s.push_str(&self.msg);
        s
    }
}

/// Apply the text of a config file (or the options string built from the
/// command line) to `cfg`.
pub fn load_from_string(cfg: &mut Config, text: &str, depth: usize) -> Result<(), ConfigError> {
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let err = |msg: &str| ConfigError {
            line_no: Some(i + 1),
            line: Some(line.to_string()),
            msg: msg.to_string(),
        };
        let args = match split_args(line.as_bytes()) {
            Some(a) if !a.is_empty() => a,
            Some(_) => continue,
            None => return Err(err("Unbalanced quotes in configuration line")),
        };
        let args: Vec<String> = args
            .into_iter()
            .map(|a| String::from_utf8_lossy(&a).into_owned())
            .collect();
        let name = args[0].to_ascii_lowercase();
        if name == "include" && args.len() == 2 {
            if depth > 16 {
                return Err(err("Too many nested includes"));
            }
            let text = std::fs::read_to_string(&args[1]).map_err(|e| {
                err(&format!(
                    "Fatal error, can't open config file '{}': {}",
                    args[1], e
                ))
            })?;
            load_from_string(cfg, &text, depth + 1)?;
            continue;
        }
        if name == "rename-command" {
            if args.len() != 3 {
                return Err(err("Bad directive or wrong number of arguments"));
            }
            cfg.renames
                .push((args[1].to_ascii_lowercase(), args[2].to_ascii_lowercase()));
            continue;
        }
        if matches!(name.as_str(), "user" | "loadmodule" | "sentinel") {
            // Handled by the features that own them; accepted here.
            continue;
        }
        let Some(idx) = cfg.lookup(&name) else {
            return Err(err("Bad directive or wrong number of arguments"));
        };
        let multi = super::PARAMS[idx].flags & super::params::MULTI_ARG != 0;
        let vals: Vec<String> = if multi && args.len() == 2 && !args[1].is_empty() {
            args[1].split_whitespace().map(|s| s.to_string()).collect()
        } else {
            args[1..].to_vec()
        };
        if !multi && vals.len() != 1 {
            return Err(err("wrong number of arguments"));
        }
        cfg.set(&name, &vals, true).map_err(|m| err(&m))?;
    }
    Ok(())
}

/// Build the server's config from argv: an optional config file first, then
/// `--name value...` options (as Redis appends them to the file's text).
pub fn from_args(args: &[String]) -> Result<Config, ConfigError> {
    let mut cfg = Config::default();
    let mut i = 0;
    let mut text = String::new();
    if let Some(first) = args.first() {
        if !first.starts_with("--") {
            let path = std::path::PathBuf::from(first);
            if first == "-" {
                let mut s = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut s).ok();
                text.push_str(&s);
            } else {
                let t = std::fs::read_to_string(&path).map_err(|e| ConfigError {
                    line_no: None,
                    line: None,
                    msg: format!("Fatal error, can't open config file '{}': {}", first, e),
                })?;
                text.push_str(&t);
                cfg.file = Some(std::fs::canonicalize(&path).unwrap_or(path));
            }
            i = 1;
        }
    }
    text.push('\n');
    text.push_str(&options_from_args(&args[i..]));
    text.push('\n');
    load_from_string(&mut cfg, &text, 0)?;
    Ok(cfg)
}

/// Turn `--name value...` arguments into config lines the way Redis's
/// main() does: an argument starting with `--` opens a new line unless the
/// previous option still has no value (then it is that value, so
/// `--port --bla` sets port to "--bla"); `--save` directly followed by
/// another option, or last, means `save ""`.
fn options_from_args(args: &[String]) -> String {
    let mut out = String::new();
    let mut handled_last = true;
    for (j, a) in args.iter().enumerate() {
        if handled_last && a.starts_with("--") {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&a[2..]);
            out.push(' ');
            let words = split_args(a.as_bytes()).map(|v| v.len()).unwrap_or(1);
            if words == 1 {
                handled_last = false;
                let next_is_opt = args.get(j + 1).is_some_and(|n| n.starts_with("--"));
                let last = j + 1 == args.len();
                if a.eq_ignore_ascii_case("--save") && (next_is_opt || last) {
                    out.push_str("\"\"");
                    handled_last = next_is_opt;
                }
            } else {
                handled_last = true;
            }
        } else {
            out.push_str(&quote_arg(a));
            out.push(' ');
            handled_last = true;
        }
    }
    out
}

/// Quote an argument so split_args gives it back unchanged.
pub fn quote_arg(a: &str) -> String {
    let mut s = String::from("\"");
    for c in a.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

/// A value as written in redis.conf: bare when it is a simple token,
/// quoted otherwise.
fn conf_value(v: &str) -> String {
    if !v.is_empty()
        && v.bytes()
            .all(|c| c.is_ascii_graphic() && c != b'"' && c != b'\'' && c != b'\\')
    {
        v.to_string()
    } else {
        quote_arg(v)
    }
}

/// The config lines for one parameter's current value ("save" has one
/// line per pair, "client-output-buffer-limit" one per class).
fn param_lines(name: &str, value: &str) -> Vec<String> {
    let parts: Vec<&str> = value.split_whitespace().collect();
    match name {
        "save" if value.is_empty() => vec!["save \"\"".to_string()],
        "save" => parts
            .chunks(2)
            .map(|c| format!("save {}", c.join(" ")))
            .collect(),
        "client-output-buffer-limit" => parts
            .chunks(4)
            .map(|c| format!("client-output-buffer-limit {}", c.join(" ")))
            .collect(),
        "bind" | "oom-score-adj-values" | "latency-tracking-info-percentiles" | "replicaof" => {
            vec![format!("{} {}", name, value)]
        }
        _ => vec![format!("{} {}", name, conf_value(value))],
    }
}

/// Whether a default value has a config line at all (no master = no
/// replicaof line, as Redis writes it).
fn writable_default(p: &super::Param, v: &str) -> bool {
    p.flags & (super::params::HIDDEN | super::params::NO_REWRITE) == 0
        && !(p.name == "replicaof" && v.is_empty())
}

/// CONFIG REWRITE: update the file in place, keeping comments, unknown
/// directives and the order of lines; options back at their default are
/// dropped, changed ones not in the file are appended.
/// `force_all` (DEBUG CONFIG-REWRITE-FORCE-ALL) writes every option, defaults
/// included.
pub fn rewrite(cfg: &Config, path: &std::path::Path, force_all: bool) -> std::io::Result<()> {
    use super::params::{HIDDEN, PARAMS};
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let mut out: Vec<String> = Vec::new();
    let mut done = vec![false; PARAMS.len()];
    for raw in old.lines() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            if line != "# Generated by CONFIG REWRITE" {
                out.push(raw.to_string());
            }
            continue;
        }
        let name = split_args(line.as_bytes()).and_then(|a| {
            a.first()
                .map(|n| String::from_utf8_lossy(n).to_ascii_lowercase())
        });
        let Some(idx) = name.as_deref().and_then(|n| cfg.lookup(n)) else {
            out.push(raw.to_string());
            continue;
        };
        if done[idx] {
            continue;
        }
        done[idx] = true;
        let p = &PARAMS[idx];
        let v = cfg.value_at(idx);
        if v == p.default && !(force_all && writable_default(p, v)) {
            continue;
        }
        out.extend(param_lines(p.name, v));
    }
    let mut appended = false;
    for (idx, p) in PARAMS.iter().enumerate() {
        let v = cfg.value_at(idx);
        if done[idx]
            || p.flags & HIDDEN != 0
            || (v == p.default && !(force_all && writable_default(p, v)))
        {
            continue;
        }
        if !appended {
            out.push("# Generated by CONFIG REWRITE".to_string());
            appended = true;
        }
        out.extend(param_lines(p.name, cfg.value_at(idx)));
    }
    let mut text = out.join("\n");
    text.push('\n');
    // Write a temp file and rename, so a crash never leaves half a config.
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}
