//! Rendering of job scripts before they run: inherited configs, the original hera's `${zdt…}`
//! date helper, DolphinScheduler-style `$[…]` date macros and shell-quoted run-time parameters.
//!
//! # Pipeline
//!
//! The order follows the original hera (reference G4), with run-time parameters added last:
//!
//! 1. **Configs.** `${key}` naming an effective config is replaced by its value. Values are
//!    expanded recursively (a value may use `${other}`), so a value may also carry `${zdt…}` or
//!    `$[…]` expressions that the next step evaluates. Configs that refer to each other in a loop
//!    are an error naming the loop (`a -> b -> a`). Unknown keys are left as written: shell
//!    scripts use `${VAR}` themselves. `$${key}` is not special.
//! 2. **Date expressions**, in one left-to-right pass over the result of step 1:
//!    `${zdt…}`, `$[…]` and `${yesterday}`. The original ran three passes in that order; one pass
//!    renders the same, since outputs are never read again and dates cannot spell another
//!    expression (only a pattern's quoted text could, and then it stays text).
//! 3. **Run-time parameters** (API triggers): `${name}` naming a parameter becomes the value,
//!    shell-quoted. Values are data: they are never rendered themselves.
//!
//! Anything that cannot be evaluated fails the render with the expression, its line and column
//! in the script (and the config it came from, if any) and the reason. The attempt then fails
//! before it starts.
//!
//! Precedence for one `${name}`: a parameter wins over a config of the same name (configs are
//! the job author's template, parameters the caller's data, and the caller asked for this value);
//! a config wins over the built-in `${yesterday}`.
//!
//! # `${zdt…}`
//!
//! The original's date helper (`HeraDateTool` behind Velocity), evaluated against the instance's
//! business time in the job's zone. Every expression starts again from the business time.
//! - `addDay(n)`; `add(field, n)`; `set(field, n)`: `java.util.Calendar` field numbers (1 YEAR,
//!   2 MONTH, which is 0-based, 3 WEEK_OF_YEAR, 4 WEEK_OF_MONTH, 5 DAY_OF_MONTH, 6 DAY_OF_YEAR,
//!   7 DAY_OF_WEEK with 1 = Sunday, 8 DAY_OF_WEEK_IN_MONTH, 9 AM_PM, 10 HOUR, 11 HOUR_OF_DAY,
//!   12 MINUTE, 13 SECOND, 14 MILLISECOND). `add` takes 1–14, `set` takes 1, 2, 5, 6, 7, 9–14,
//!   `get` takes 0–14. Java semantics: adding months or years clamps the day (31 January + 1
//!   month = 28/29 February); day-based adds keep the wall-clock time across DST changes, hour
//!   and smaller adds are exact durations; `set` is lenient (`set(5, 0)` is the last day of the
//!   previous month). Weeks start on Sunday and week 1 is the week of 1 January (US and China
//!   locales). Java applies `set` lazily; here each call applies at once, which differs only for
//!   chains of `set` on different date fields that cross a month boundary.
//! - `format(pattern)`: a `java.text.SimpleDateFormat` pattern in English: `G y Y M L w W D d F
//!   E u a H k K h m s S`, `z` (zone abbreviation: CST, EST/EDT, UTC; `GMT+hh:mm` when the zone
//!   has none), `Z`, `X`/`XX`/`XXX`, text in single quotes, `''` for a quote. Other letters and
//!   `zzzz` are errors.
//! - `getTime()` is epoch **seconds**: the original's `getTime()` returns
//!   `calendar.getTime().getTime() / 1000`. `getMillis()` is epoch milliseconds.
//! - `getNowMillis()` and `getToday()` (`yyyy-MM-dd`) use the real current time, which the caller
//!   passes in ([`RenderContext::now`]); `getToday()` is the date in the job's zone.
//! - `get(field)` returns the field as Java does (`get(2)` is 0 for January).
//! - Velocity property forms `.time`, `.millis`, `.nowMillis`, `.today` call the getters.
//! - Arguments are integers or strings in `"double"` or `'single'` quotes (a quote doubled
//!   inside a string is one quote); spaces are allowed around arguments.
//! - A plain `${zdt}`, or a chain ending in a date such as `${zdt.addDay(-1)}`, renders as
//!   `format("yyyy-MM-dd HH:mm:ss")` (Velocity would print the Java object's `toString()`, which
//!   is useless).
//! - `${yesterday}`: the business date − 1 day as `yyyyMMdd`.
//!
//! # `$[…]`
//!
//! DolphinScheduler's built-in time parameters, evaluated against the business time in the job's
//! zone, with the same `SimpleDateFormat` patterns:
//! - `$[pattern]`, e.g. `$[yyyyMMdd]`, `$[yyyy-MM-dd HH:mm:ss]`;
//! - `$[pattern+N]` / `$[pattern-N]`: N calendar days (DolphinScheduler adds N × 1440 minutes,
//!   which differs only across a DST change; we follow the documented "N days");
//!   `$[pattern±7*N]`: N weeks; `$[pattern±N/24]`: N hours; `$[pattern±N/24/60]`: N minutes.
//!   The offset starts at the last `+` or `-` followed by a digit, so `$[yyyy-MM-dd-1]` works;
//! - `add_months(pattern, N)`: N months, day clamped; N may be written `12*N` for years;
//! - `month_first_day(pattern, N)` / `month_last_day(pattern, N)`: first / last day of the month
//!   N months away; `week_first_day(pattern, N)` / `week_last_day(pattern, N)`: Monday / Sunday
//!   of the week N weeks away (as documented by DolphinScheduler);
//! - `month_begin(pattern, N)`, `month_end(pattern, N)`, `week_begin(pattern, N)` (Monday),
//!   `week_end(pattern, N)` (Sunday): **N is a number of days** added to the first / last day of
//!   the business month or the Monday / Sunday of the business week. These four are not in
//!   DolphinScheduler's documentation; its implementation adds N days, and so do we, so
//!   `month_end(yyyyMMdd,-1)` is the day before the month's last day. For "last day of the
//!   previous month" use `month_last_day(yyyyMMdd,-1)`. N may be omitted (0);
//! - `this_day(pattern)`: the business date; `last_day(pattern)`: the day before.
//!
//! `year_week` and `timestamp` are not supported. Every complete `$[…]` on one line is a macro:
//! one that does not evaluate (including bash's old `$[1+2]` arithmetic: use `$((1+2))`) is an
//! error. A `$[` without a `]` on the same line is left as written.
//!
//! # Run-time parameters
//!
//! Values go in as data, never as code. The script is read as a shell script just far enough to
//! know the quoting around each `${name}` (quotes, backslashes, `$(…)`, backticks, comments,
//! here-documents), and the value is written so the shell reads it back verbatim:
//! - unquoted: `'value'`, each `'` written as `'\''`;
//! - inside `"…"`: the double quotes are closed around `'value'` (`"a"'value'"b"`);
//! - inside `'…'`: the value with each `'` written as `'\''`; inside `$'…'`: `\` and `'`
//!   backslash-escaped;
//! - inside backticks: the above, with `\`, `$` and backtick escaped once more;
//! - in a here-document: `\`, `$` and backtick escaped (none when the delimiter is quoted);
//!   a value with a line break is refused there, since it could end the document early;
//! - in a comment: left as written (it does not run).
//!
//! A parameter right after a backslash or a `$`, or in a script whose quotes do not balance, is
//! refused rather than guessed. Hive and Spark SQL scripts are not shell: they get the same
//! quoting, which is an SQL string literal for values without quotes.
//!
//! Not handled here (caller's concern): `download[…]` directives, `secret.` and area-prefixed
//! configs (reference G4 steps 1–2).

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// The longest rendered script, in bytes: configs that repeat other configs could otherwise
/// grow the script exponentially.
const MAX_RENDERED_LEN: usize = 16 * 1024 * 1024;

/// What a script is rendered against.
#[derive(Clone, Copy, Debug)]
pub struct RenderContext<'a> {
    /// The instance's business time (the original's action time); reruns pass the historical
    /// one, debug runs pass now.
    pub business_time: DateTime<Utc>,
    /// The job's IANA zone: dates are computed and formatted in it.
    pub zone: Tz,
    /// The real current time, for `getNowMillis()` and `getToday()`. Read by the caller, never
    /// here.
    pub now: DateTime<Utc>,
    /// The effective configs of the job (see [`effective_configs`]).
    pub configs: &'a BTreeMap<String, String>,
    /// Run-time parameters from the trigger, inserted shell-quoted.
    pub params: &'a BTreeMap<String, String>,
}

/// Why a script could not be rendered. The message names the place and the reason.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// Configs refer to each other in a loop.
    #[error("{at}: configs refer to each other in a cycle: {}", .cycle.join(" -> "))]
    ConfigCycle {
        /// Where the script first uses a config of the loop.
        at: Position,
        /// The loop, first and last element equal, e.g. `[a, b, a]`.
        cycle: Vec<String>,
    },
    /// A `${zdt…}` or `$[…]` expression cannot be evaluated.
    #[error("{at}: cannot render `{expression}`: {reason}")]
    Expression {
        /// Where the expression starts.
        at: Position,
        /// The expression as written.
        expression: String,
        /// Why it cannot be evaluated.
        reason: String,
    },
    /// A run-time parameter cannot be inserted safely at this place.
    #[error("{at}: cannot insert run-time parameter `{name}`: {reason}")]
    Parameter {
        /// Where the parameter is used.
        at: Position,
        /// The parameter's name.
        name: String,
        /// Why the value cannot be inserted there.
        reason: String,
    },
    /// Config expansion would produce more than `limit` bytes (16 MiB).
    #[error(
        "the rendered script would exceed {limit} bytes; check configs that repeat other configs"
    )]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
}

/// A place in the script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Position {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// Set when the problem is inside the value of this config, used at `line`/`column`.
    pub config: Option<String>,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)?;
        if let Some(config) = &self.config {
            write!(f, " (in config `{config}`)")?;
        }
        Ok(())
    }
}

/// One effective config and the level that defined it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigOrigin {
    /// The value.
    pub value: String,
    /// Index in the chain passed to [`config_origins`] (0 = outermost, usually the root folder).
    pub level: usize,
    /// Defined by the last level of the chain (the job or folder being shown), not inherited.
    pub own: bool,
}

/// Merges the configs of a chain of levels, outermost (root folder) first and the job last:
/// the nearest level wins.
pub fn effective_configs(chain: &[&BTreeMap<String, String>]) -> BTreeMap<String, String> {
    config_origins(chain)
        .into_iter()
        .map(|(key, origin)| (key, origin.value))
        .collect()
}

/// Like [`effective_configs`], with the level each value comes from, so own and inherited
/// configs can be shown apart. An inherited value that the last level overrides is not listed;
/// `config_origins(&chain[..chain.len() - 1])` gives it.
pub fn config_origins(chain: &[&BTreeMap<String, String>]) -> BTreeMap<String, ConfigOrigin> {
    let own_level = chain.len().saturating_sub(1);
    let mut merged = BTreeMap::new();
    for (level, configs) in chain.iter().enumerate() {
        for (key, value) in configs.iter() {
            let origin = ConfigOrigin {
                value: value.clone(),
                level,
                own: level == own_level,
            };
            merged.insert(key.clone(), origin);
        }
    }
    merged
}

/// Renders `script` for one attempt (see the module docs for the rules).
pub fn render(script: &str, ctx: &RenderContext<'_>) -> Result<String, RenderError> {
    let expanded = expand_configs(script, ctx.configs, ctx.params)?;
    let evaluated = evaluate_expressions(&expanded, ctx)?;
    insert_params(evaluated, &expanded, ctx.params)
}

// ---- Step 1: configs ------------------------------------------------------------------------

/// The script after config expansion, with enough bookkeeping to report positions in the
/// script as written.
struct Expanded<'s> {
    script: &'s str,
    text: String,
    /// Where each piece of `text` comes from, ordered by `at`; the first piece starts at 0.
    pieces: Vec<Piece>,
}

struct Piece {
    /// Byte offset in the expanded text where the piece starts.
    at: usize,
    /// Byte offset in the script: of the copied text, or of the `${key}` the piece replaces.
    source: usize,
    /// The config whose value the piece is; `None` for text copied from the script.
    config: Option<String>,
}

impl Expanded<'_> {
    /// The script position of a byte offset in the expanded text.
    fn position(&self, at: usize) -> Position {
        let idx = self.pieces.partition_point(|piece| piece.at <= at) - 1;
        let piece = &self.pieces[idx];
        let source = match piece.config {
            Some(_) => piece.source,
            None => piece.source + (at - piece.at),
        };
        position_in(self.script, source, piece.config.clone())
    }
}

fn position_in(script: &str, offset: usize, config: Option<String>) -> Position {
    let before = &script[..offset];
    let line_start = before.rfind('\n').map_or(0, |idx| idx + 1);
    Position {
        line: before.matches('\n').count() + 1,
        column: before[line_start..].chars().count() + 1,
        config,
    }
}

enum ExpandError {
    Cycle(Vec<String>),
    TooLarge,
}

struct ConfigExpander<'a> {
    configs: &'a BTreeMap<String, String>,
    params: &'a BTreeMap<String, String>,
    /// Fully expanded values, so a config used many times is expanded once.
    done: BTreeMap<&'a str, String>,
    /// The configs being expanded, outermost first: a repeat is a cycle.
    active: Vec<&'a str>,
}

impl<'a> ConfigExpander<'a> {
    /// The next `${name}` at or after `from` naming a config, as (start, end, key). Parameters
    /// shadow configs of the same name; those are left for step 3.
    fn next_reference(&self, text: &str, mut from: usize) -> Option<(usize, usize, &'a str)> {
        while let Some(found) = text[from..].find("${") {
            let start = from + found;
            let name_start = start + 2;
            let name_len = text[name_start..].find('}')?;
            let name = &text[name_start..name_start + name_len];
            if !self.params.contains_key(name)
                && let Some((key, _)) = self.configs.get_key_value(name)
            {
                return Some((start, name_start + name_len + 1, key.as_str()));
            }
            // Not a config: keep looking inside it, for `${zdt.addDay(${n})}`.
            from = name_start;
        }
        None
    }

    /// Appends `text` to `out` with its config references expanded.
    fn expand_into(&mut self, text: &str, out: &mut String) -> Result<(), ExpandError> {
        let mut copied_to = 0;
        while let Some((start, end, key)) = self.next_reference(text, copied_to) {
            out.push_str(&text[copied_to..start]);
            let value = self.value(key)?;
            out.push_str(&value);
            if out.len() > MAX_RENDERED_LEN {
                return Err(ExpandError::TooLarge);
            }
            copied_to = end;
        }
        out.push_str(&text[copied_to..]);
        Ok(())
    }

    /// The value of config `key`, expanded.
    fn value(&mut self, key: &'a str) -> Result<String, ExpandError> {
        if let Some(value) = self.done.get(key) {
            return Ok(value.clone());
        }
        if let Some(idx) = self.active.iter().position(|active| *active == key) {
            let mut cycle: Vec<String> =
                self.active[idx..].iter().map(|k| (*k).to_owned()).collect();
            cycle.push(key.to_owned());
            return Err(ExpandError::Cycle(cycle));
        }
        let configs = self.configs;
        self.active.push(key);
        let mut value = String::new();
        self.expand_into(&configs[key], &mut value)?;
        self.active.pop();
        self.done.insert(key, value.clone());
        Ok(value)
    }
}

fn expand_configs<'s>(
    script: &'s str,
    configs: &BTreeMap<String, String>,
    params: &BTreeMap<String, String>,
) -> Result<Expanded<'s>, RenderError> {
    let mut expander = ConfigExpander {
        configs,
        params,
        done: BTreeMap::new(),
        active: Vec::new(),
    };
    let mut text = String::with_capacity(script.len());
    let mut pieces = vec![Piece {
        at: 0,
        source: 0,
        config: None,
    }];
    let mut copied_to = 0;
    while let Some((start, end, key)) = expander.next_reference(script, copied_to) {
        text.push_str(&script[copied_to..start]);
        let value = expander.value(key).map_err(|err| match err {
            ExpandError::Cycle(cycle) => RenderError::ConfigCycle {
                at: position_in(script, start, None),
                cycle,
            },
            ExpandError::TooLarge => RenderError::TooLarge {
                limit: MAX_RENDERED_LEN,
            },
        })?;
        pieces.push(Piece {
            at: text.len(),
            source: start,
            config: Some(key.to_owned()),
        });
        text.push_str(&value);
        if text.len() > MAX_RENDERED_LEN {
            return Err(RenderError::TooLarge {
                limit: MAX_RENDERED_LEN,
            });
        }
        pieces.push(Piece {
            at: text.len(),
            source: end,
            config: None,
        });
        copied_to = end;
    }
    text.push_str(&script[copied_to..]);
    Ok(Expanded {
        script,
        text,
        pieces,
    })
}

// ---- Step 2: date expressions ---------------------------------------------------------------

/// The script after step 2, with the places where parameters go.
struct Evaluated {
    text: String,
    slots: Vec<Slot>,
}

/// A parameter to insert.
struct Slot {
    /// Byte offset in [`Evaluated::text`].
    at: usize,
    name: String,
    /// Byte offset of the `${name}` in the expanded text, for error positions.
    source: usize,
}

fn evaluate_expressions(
    expanded: &Expanded<'_>,
    ctx: &RenderContext<'_>,
) -> Result<Evaluated, RenderError> {
    let text = expanded.text.as_str();
    let base = ctx.business_time.with_timezone(&ctx.zone);
    let mut out = String::with_capacity(text.len());
    let mut slots = Vec::new();
    let mut idx = 0;
    while let Some(found) = text[idx..].find('$') {
        let start = idx + found;
        out.push_str(&text[idx..start]);
        let rest = &text[start..];
        let fail = |expression: &str, reason: String| RenderError::Expression {
            at: expanded.position(start),
            expression: expression.to_owned(),
            reason,
        };
        if let Some(body) = rest.strip_prefix("${") {
            let name = body.find('}').map(|len| &body[..len]);
            if let Some(name) = name.filter(|name| ctx.params.contains_key(*name)) {
                slots.push(Slot {
                    at: out.len(),
                    name: name.to_owned(),
                    source: start,
                });
                idx = start + name.len() + 3;
            } else if body
                .strip_prefix("zdt")
                .is_some_and(|after| after.starts_with(['.', '}']))
            {
                let Some(len) = closing_brace(body) else {
                    let line = rest.lines().next().unwrap_or(rest);
                    return Err(fail(
                        line,
                        "the closing `}` is missing (or a quote is not closed)".to_owned(),
                    ));
                };
                let expression = &rest[..len + 3];
                let value = zdt::evaluate(&body[..len], base, ctx.now)
                    .map_err(|reason| fail(expression, reason))?;
                out.push_str(&value);
                idx = start + expression.len();
            } else if name == Some("yesterday") {
                let yesterday = calendar::add(base, calendar::DAY_OF_MONTH, -1)
                    .and_then(|day| calendar::format(&day, "yyyyMMdd"))
                    .map_err(|reason| fail("${yesterday}", reason))?;
                out.push_str(&yesterday);
                idx = start + "${yesterday}".len();
            } else {
                out.push_str("${");
                idx = start + 2;
            }
        } else if let Some(body) = rest.strip_prefix("$[") {
            let end = body
                .find(['\n', ']'])
                .filter(|&len| body[len..].starts_with(']'));
            if let Some(len) = end {
                let expression = &rest[..len + 3];
                let value = dolphin::evaluate(&body[..len], base)
                    .map_err(|reason| fail(expression, reason))?;
                out.push_str(&value);
                idx = start + expression.len();
            } else {
                out.push_str("$[");
                idx = start + 2;
            }
        } else {
            out.push('$');
            idx = start + 1;
        }
    }
    out.push_str(&text[idx..]);
    Ok(Evaluated { text: out, slots })
}

/// Byte offset of the `}` closing a `${zdt…}` body: the first one outside quoted strings, on
/// the same line.
fn closing_brace(body: &str) -> Option<usize> {
    let mut quote = None;
    for (idx, c) in body.char_indices() {
        match (quote, c) {
            (_, '\n') => return None,
            (None, '"' | '\'') => quote = Some(c),
            (Some(open), _) if c == open => quote = None,
            (None, '}') => return Some(idx),
            _ => {}
        }
    }
    None
}

// ---- Step 3: run-time parameters ------------------------------------------------------------

fn insert_params(
    evaluated: Evaluated,
    expanded: &Expanded<'_>,
    params: &BTreeMap<String, String>,
) -> Result<String, RenderError> {
    let Evaluated { text, slots } = evaluated;
    if slots.is_empty() {
        return Ok(text);
    }
    let offsets: Vec<usize> = slots.iter().map(|slot| slot.at).collect();
    // Inserted values leave the quoting state as it was, so reading the text without them
    // gives the context of every slot.
    let (places, balanced) = shell::places(&text, &offsets);
    let mut out = String::with_capacity(text.len());
    let mut copied_to = 0;
    for (slot, place) in slots.iter().zip(places) {
        let fail = |reason: &str| RenderError::Parameter {
            at: expanded.position(slot.source),
            name: slot.name.clone(),
            reason: reason.to_owned(),
        };
        let after_dollar = text[..slot.at].ends_with('$');
        let insertion = shell::insertion(place, &params[&slot.name], after_dollar).map_err(fail)?;
        if !balanced {
            return Err(fail(
                "the script leaves a quote, `$(`, backtick or here-document open, so it is \
                 unclear how the shell would read the value",
            ));
        }
        out.push_str(&text[copied_to..slot.at]);
        copied_to = slot.at;
        match insertion {
            Some(value) => out.push_str(&value),
            None => {
                out.push_str("${");
                out.push_str(&slot.name);
                out.push('}');
            }
        }
    }
    out.push_str(&text[copied_to..]);
    Ok(out)
}

/// `java.util.Calendar` arithmetic and `java.text.SimpleDateFormat` formatting on zoned times.
mod calendar {
    use chrono::{
        DateTime, Datelike as _, NaiveDate, NaiveDateTime, NaiveTime, Offset as _, TimeDelta,
        TimeZone as _, Timelike as _,
    };
    use chrono_tz::{OffsetName as _, Tz};

    pub(super) type Zoned = DateTime<Tz>;

    pub(super) const MONTH: i32 = 2;
    pub(super) const DAY_OF_YEAR: i32 = 6;
    pub(super) const DAY_OF_MONTH: i32 = 5;
    pub(super) const HOUR_OF_DAY: i32 = 11;
    pub(super) const MINUTE: i32 = 12;
    pub(super) const WEEK_OF_YEAR: i32 = 3;

    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    const WEEKDAYS: [&str; 7] = [
        "Sunday",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
    ];

    fn out_of_range() -> String {
        "the date is out of range".to_owned()
    }

    fn field_name(field: i32) -> &'static str {
        match field {
            0 => "ERA",
            1 => "YEAR",
            2 => "MONTH",
            3 => "WEEK_OF_YEAR",
            4 => "WEEK_OF_MONTH",
            5 => "DAY_OF_MONTH",
            6 => "DAY_OF_YEAR",
            7 => "DAY_OF_WEEK",
            8 => "DAY_OF_WEEK_IN_MONTH",
            9 => "AM_PM",
            10 => "HOUR",
            11 => "HOUR_OF_DAY",
            12 => "MINUTE",
            13 => "SECOND",
            14 => "MILLISECOND",
            15 => "ZONE_OFFSET",
            16 => "DST_OFFSET",
            _ => "not a Calendar field",
        }
    }

    /// `Calendar.add(field, amount)`.
    pub(super) fn add(t: Zoned, field: i32, amount: i32) -> Result<Zoned, String> {
        let amount = i64::from(amount);
        match field {
            1 => add_months(t, amount * 12),
            2 => add_months(t, amount),
            3 | 4 | 8 => add_days(t, amount * 7, TimeDelta::zero()),
            5..=7 => add_days(t, amount, TimeDelta::zero()),
            9 => add_days(t, amount / 2, TimeDelta::hours(12 * (amount % 2))),
            10 | 11 => add_exact(t, TimeDelta::hours(amount)),
            12 => add_exact(t, TimeDelta::minutes(amount)),
            13 => add_exact(t, TimeDelta::seconds(amount)),
            14 => add_exact(t, TimeDelta::milliseconds(amount)),
            _ => Err(format!(
                "add() does not support field {field} ({})",
                field_name(field)
            )),
        }
    }

    fn add_exact(t: Zoned, delta: TimeDelta) -> Result<Zoned, String> {
        t.checked_add_signed(delta).ok_or_else(out_of_range)
    }

    /// Adds months with the day clamped to the target month, keeping the wall-clock time.
    fn add_months(t: Zoned, months: i64) -> Result<Zoned, String> {
        let local = t.naive_local();
        let total = i64::from(local.year()) * 12 + i64::from(local.month0()) + months;
        let year = i32::try_from(total.div_euclid(12)).map_err(|_| out_of_range())?;
        let first = first_of_month(year, total.rem_euclid(12))?;
        let length = days_in_month(first)?;
        let date = first
            .with_day(local.day().min(length))
            .ok_or_else(out_of_range)?;
        at_wall(t.timezone(), date.and_time(local.time()))
    }

    /// Adds days to the date, keeping the wall-clock time as `GregorianCalendar.add` does: read
    /// the new wall time with the old offset, correct by the change of offset unless that
    /// changes the date.
    fn add_days(t: Zoned, days: i64, extra: TimeDelta) -> Result<Zoned, String> {
        let local = t.naive_local();
        let mut date = local.date();
        let mut time_of_day = local.time().signed_duration_since(NaiveTime::MIN) + extra;
        if time_of_day >= TimeDelta::days(1) {
            date = date.succ_opt().ok_or_else(out_of_range)?;
            time_of_day -= TimeDelta::days(1);
        } else if time_of_day < TimeDelta::zero() {
            date = date.pred_opt().ok_or_else(out_of_range)?;
            time_of_day += TimeDelta::days(1);
        }
        let date = date
            .checked_add_signed(TimeDelta::days(days))
            .ok_or_else(out_of_range)?;
        let wall = date
            .and_time(NaiveTime::MIN)
            .checked_add_signed(time_of_day)
            .ok_or_else(out_of_range)?;
        let old_offset = offset_of(&t);
        let utc = wall
            .checked_sub_signed(old_offset)
            .ok_or_else(out_of_range)?;
        let first = t.timezone().from_utc_datetime(&utc);
        let shift = old_offset - offset_of(&first);
        if shift.is_zero() {
            return Ok(first);
        }
        let adjusted = first.checked_add_signed(shift).ok_or_else(out_of_range)?;
        Ok(if adjusted.date_naive() == date {
            adjusted
        } else {
            first
        })
    }

    fn offset_of(t: &Zoned) -> TimeDelta {
        TimeDelta::seconds(t.offset().fix().local_minus_utc().into())
    }

    /// The instant of a wall-clock time, resolved as a lenient `GregorianCalendar` does: a time
    /// that occurs twice (clocks going back) takes the later, standard-time instant; a time in a
    /// gap (clocks going forward) is read with the offset before the gap, landing after it.
    pub(super) fn at_wall(zone: Tz, wall: NaiveDateTime) -> Result<Zoned, String> {
        if let Some(t) = zone.from_local_datetime(&wall).latest() {
            return Ok(t);
        }
        let day_before = wall
            .checked_sub_signed(TimeDelta::days(1))
            .ok_or_else(out_of_range)?;
        let offset = zone
            .offset_from_local_datetime(&day_before)
            .latest()
            .ok_or_else(out_of_range)?
            .fix();
        let utc = wall
            .checked_sub_signed(TimeDelta::seconds(offset.local_minus_utc().into()))
            .ok_or_else(out_of_range)?;
        Ok(zone.from_utc_datetime(&utc))
    }

    /// The same wall-clock time on another date.
    pub(super) fn on_date(t: Zoned, date: NaiveDate) -> Result<Zoned, String> {
        at_wall(t.timezone(), date.and_time(t.naive_local().time()))
    }

    /// `Calendar.set(field, value)`, lenient: out-of-range values spill into larger fields.
    pub(super) fn set(t: Zoned, field: i32, value: i32) -> Result<Zoned, String> {
        let local = t.naive_local();
        let value = i64::from(value);
        let (year, month0, day) = (
            i64::from(local.year()),
            i64::from(local.month0()),
            i64::from(local.day()),
        );
        let mut date = local.date();
        let mut hour = i64::from(local.hour());
        let mut minute = i64::from(local.minute());
        let mut second = i64::from(local.second());
        let mut nanos = i64::from(local.nanosecond());
        match field {
            1 => date = lenient_date(value, month0, day)?,
            2 => date = lenient_date(year, value, day)?,
            5 => date = lenient_date(year, month0, value)?,
            6 => date = lenient_date(year, 0, value)?,
            7 => date = shift(date, value - i64::from(day_of_week(date)))?,
            9 => hour = value * 12 + hour % 12,
            10 => hour = hour / 12 * 12 + value,
            11 => hour = value,
            12 => minute = value,
            13 => second = value,
            14 => nanos = value * 1_000_000,
            _ => {
                return Err(format!(
                    "set() does not support field {field} ({})",
                    field_name(field)
                ));
            }
        }
        let time = TimeDelta::hours(hour)
            + TimeDelta::minutes(minute)
            + TimeDelta::seconds(second)
            + TimeDelta::nanoseconds(nanos);
        let wall = date
            .and_time(NaiveTime::MIN)
            .checked_add_signed(time)
            .ok_or_else(out_of_range)?;
        at_wall(t.timezone(), wall)
    }

    /// `Calendar.get(field)`.
    pub(super) fn get(t: &Zoned, field: i32) -> Result<i64, String> {
        let date = t.date_naive();
        let hour = i64::from(t.hour());
        Ok(match field {
            0 => i64::from(date.year() > 0),
            1 => i64::from(date.year()),
            2 => i64::from(date.month0()),
            3 => i64::from(week_of_year(date)),
            4 => i64::from(week_of_month(date)),
            5 => i64::from(date.day()),
            6 => i64::from(date.ordinal()),
            7 => i64::from(day_of_week(date)),
            8 => i64::from(date.day0() / 7 + 1),
            9 => hour / 12,
            10 => hour % 12,
            11 => hour,
            12 => i64::from(t.minute()),
            13 => i64::from(t.second()),
            14 => i64::from(millis(t)),
            _ => {
                return Err(format!(
                    "get() does not support field {field} ({})",
                    field_name(field)
                ));
            }
        })
    }

    /// Year, month (0-based, may be out of range) and day (may be out of range), normalised.
    fn lenient_date(year: i64, month0: i64, day: i64) -> Result<NaiveDate, String> {
        let year = year + month0.div_euclid(12);
        let year = i32::try_from(year).map_err(|_| out_of_range())?;
        shift(first_of_month(year, month0.rem_euclid(12))?, day - 1)
    }

    fn first_of_month(year: i32, month0: i64) -> Result<NaiveDate, String> {
        let month = u32::try_from(month0 + 1).map_err(|_| out_of_range())?;
        NaiveDate::from_ymd_opt(year, month, 1).ok_or_else(out_of_range)
    }

    fn days_in_month(first: NaiveDate) -> Result<u32, String> {
        let next = first
            .checked_add_months(chrono::Months::new(1))
            .ok_or_else(out_of_range)?;
        u32::try_from(next.signed_duration_since(first).num_days()).map_err(|_| out_of_range())
    }

    pub(super) fn shift(date: NaiveDate, days: i64) -> Result<NaiveDate, String> {
        date.checked_add_signed(TimeDelta::days(days))
            .ok_or_else(out_of_range)
    }

    /// 1 = Sunday … 7 = Saturday.
    fn day_of_week(date: NaiveDate) -> u32 {
        date.weekday().num_days_from_sunday() + 1
    }

    /// Week of the year: weeks start on Sunday, week 1 is the week of 1 January, so the last
    /// days of December can be week 1 of the next year.
    fn week_of_year(date: NaiveDate) -> u32 {
        let week_start = |year: i32| {
            NaiveDate::from_ymd_opt(year, 1, 1)
                .map(|jan1| jan1 - TimeDelta::days(jan1.weekday().num_days_from_sunday().into()))
        };
        if week_start(date.year() + 1).is_some_and(|next| date >= next) {
            return 1;
        }
        let start = week_start(date.year()).unwrap_or(date);
        let days = date.signed_duration_since(start).num_days();
        u32::try_from(days / 7 + 1).unwrap_or(1)
    }

    /// Week of the month: weeks start on Sunday, week 1 is the week of the 1st.
    fn week_of_month(date: NaiveDate) -> u32 {
        let first = date.with_day(1).unwrap_or(date);
        (date.day0() + first.weekday().num_days_from_sunday()) / 7 + 1
    }

    fn millis(t: &Zoned) -> u32 {
        (t.nanosecond() / 1_000_000).min(999)
    }

    /// `new SimpleDateFormat(pattern).format(t)` in an English locale.
    pub(super) fn format(t: &Zoned, pattern: &str) -> Result<String, String> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut out = String::new();
        let mut idx = 0;
        while let Some(&c) = chars.get(idx) {
            if c == '\'' {
                if chars.get(idx + 1) == Some(&'\'') {
                    out.push('\'');
                    idx += 2;
                    continue;
                }
                idx += 1;
                loop {
                    match chars.get(idx) {
                        None => return Err(format!("unterminated quote in pattern `{pattern}`")),
                        Some('\'') if chars.get(idx + 1) == Some(&'\'') => {
                            out.push('\'');
                            idx += 2;
                        }
                        Some('\'') => {
                            idx += 1;
                            break;
                        }
                        Some(&text) => {
                            out.push(text);
                            idx += 1;
                        }
                    }
                }
            } else if c.is_ascii_alphabetic() {
                let count = chars[idx..].iter().take_while(|&&next| next == c).count();
                format_field(&mut out, t, c, count)
                    .map_err(|reason| format!("{reason} in pattern `{pattern}`"))?;
                idx += count;
            } else {
                out.push(c);
                idx += 1;
            }
        }
        Ok(out)
    }

    fn format_field(out: &mut String, t: &Zoned, letter: char, count: usize) -> Result<(), String> {
        let date = t.date_naive();
        let hour = t.hour();
        let number = |out: &mut String, value: i64| out.push_str(&format!("{value:0count$}"));
        let text = |out: &mut String, full: &str| {
            out.push_str(if count >= 4 { full } else { &full[..3] });
        };
        match letter {
            'G' => out.push_str(if date.year() > 0 { "AD" } else { "BC" }),
            'y' | 'Y' => {
                let mut year = i64::from(date.year());
                if letter == 'Y' && date.month() == 12 && week_of_year(date) == 1 {
                    year += 1;
                }
                if count == 2 {
                    out.push_str(&format!("{:02}", year.rem_euclid(100)));
                } else {
                    number(out, year);
                }
            }
            'M' | 'L' if count >= 3 => text(out, MONTHS[date.month0() as usize]),
            'M' | 'L' => number(out, date.month().into()),
            'w' => number(out, week_of_year(date).into()),
            'W' => number(out, week_of_month(date).into()),
            'D' => number(out, date.ordinal().into()),
            'd' => number(out, date.day().into()),
            'F' => number(out, (date.day0() / 7 + 1).into()),
            'E' => text(
                out,
                WEEKDAYS[date.weekday().num_days_from_sunday() as usize],
            ),
            'u' => number(out, date.weekday().number_from_monday().into()),
            'a' => out.push_str(if hour < 12 { "AM" } else { "PM" }),
            'H' => number(out, hour.into()),
            'k' => number(out, if hour == 0 { 24 } else { hour.into() }),
            'K' => number(out, (hour % 12).into()),
            'h' => {
                let hour12 = hour % 12;
                number(out, if hour12 == 0 { 12 } else { hour12.into() });
            }
            'm' => number(out, t.minute().into()),
            's' => number(out, t.second().into()),
            'S' => number(out, millis(t).into()),
            'z' if count >= 4 => {
                return Err("long zone names (`zzzz`) are not supported".to_owned());
            }
            'z' => match t.offset().abbreviation() {
                Some(name) if !name.starts_with(['+', '-']) => out.push_str(name),
                _ => out.push_str(&format!("GMT{}", offset_text(t, true))),
            },
            'Z' => out.push_str(&offset_text(t, false)),
            'X' if count > 3 => return Err("`X` takes at most 3 letters".to_owned()),
            'X' if t.offset().fix().local_minus_utc() == 0 => out.push('Z'),
            'X' => {
                let full = offset_text(t, count == 3);
                out.push_str(if count == 1 { &full[..3] } else { &full });
            }
            _ => return Err(format!("unknown pattern letter `{letter}`")),
        }
        Ok(())
    }

    /// `+0800`, or `+08:00` with `colon`.
    fn offset_text(t: &Zoned, colon: bool) -> String {
        let seconds = t.offset().fix().local_minus_utc();
        let sign = if seconds < 0 { '-' } else { '+' };
        let minutes = seconds.unsigned_abs() / 60;
        let separator = if colon { ":" } else { "" };
        format!("{sign}{:02}{separator}{:02}", minutes / 60, minutes % 60)
    }
}

/// The original's `${zdt…}` helper: a tiny Velocity method-chain evaluator over [`calendar`].
mod zdt {
    use chrono::{DateTime, Utc};

    use super::calendar::{self, Zoned};

    /// How `${zdt}` renders when no method turns it into text.
    const DEFAULT_PATTERN: &str = "yyyy-MM-dd HH:mm:ss";

    const METHODS: &str = "addDay(n), add(field, n), set(field, n), get(field), \
                           format(\"pattern\"), getTime(), getMillis(), getNowMillis(), getToday()";

    enum Value {
        Date(Zoned),
        Text(String),
        Number(i64),
    }

    enum Arg {
        Int(i32),
        Text(String),
    }

    /// Evaluates the body of `${…}`, starting with `zdt`.
    pub(super) fn evaluate(body: &str, base: Zoned, now: DateTime<Utc>) -> Result<String, String> {
        let mut parser = Parser { rest: &body[3..] };
        let mut value = Value::Date(base);
        while !parser.rest.is_empty() {
            let (name, args) = parser.member()?;
            value = call(value, name, args.as_deref(), now)?;
        }
        Ok(match value {
            Value::Date(t) => calendar::format(&t, DEFAULT_PATTERN)?,
            Value::Text(text) => text,
            Value::Number(n) => n.to_string(),
        })
    }

    fn call(
        value: Value,
        name: &str,
        args: Option<&[Arg]>,
        now: DateTime<Utc>,
    ) -> Result<Value, String> {
        let Value::Date(t) = value else {
            return Err(format!(
                "`{name}` cannot follow a method that returns text or a number"
            ));
        };
        use Arg::{Int, Text};
        Ok(match (name, args) {
            ("addDay", Some([Int(n)])) => Value::Date(calendar::add(t, calendar::DAY_OF_YEAR, *n)?),
            ("add", Some([Int(field), Int(n)])) => Value::Date(calendar::add(t, *field, *n)?),
            ("set", Some([Int(field), Int(n)])) => Value::Date(calendar::set(t, *field, *n)?),
            ("get", Some([Int(field)])) => Value::Number(calendar::get(&t, *field)?),
            ("format", Some([Text(pattern)])) => Value::Text(calendar::format(&t, pattern)?),
            // The original divides Date.getTime() by 1000: seconds, truncated toward zero.
            ("getTime", Some([])) | ("time", None) => Value::Number(t.timestamp_millis() / 1000),
            ("getMillis", Some([])) | ("millis", None) => Value::Number(t.timestamp_millis()),
            ("getNowMillis", Some([])) | ("nowMillis", None) => {
                Value::Number(now.timestamp_millis())
            }
            ("getToday", Some([])) | ("today", None) => Value::Text(calendar::format(
                &now.with_timezone(&t.timezone()),
                "yyyy-MM-dd",
            )?),
            (
                "addDay" | "add" | "set" | "get" | "format" | "getTime" | "getMillis"
                | "getNowMillis" | "getToday",
                _,
            ) => {
                return Err(format!(
                    "wrong arguments for `{name}`; the methods are {METHODS}"
                ));
            }
            _ => {
                return Err(format!(
                    "unknown method `{name}`; the methods are {METHODS}"
                ));
            }
        })
    }

    struct Parser<'e> {
        rest: &'e str,
    }

    impl<'e> Parser<'e> {
        /// `.name` or `.name(arguments)`.
        fn member(&mut self) -> Result<(&'e str, Option<Vec<Arg>>), String> {
            self.rest = self
                .rest
                .strip_prefix('.')
                .ok_or_else(|| format!("expected `.` before `{}`", self.rest))?;
            let len = self
                .rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(self.rest.len());
            if len == 0 {
                return Err("expected a method name after `.`".to_owned());
            }
            let name = &self.rest[..len];
            self.rest = &self.rest[len..];
            let Some(after) = self.rest.strip_prefix('(') else {
                return Ok((name, None));
            };
            self.rest = after.trim_start();
            let mut args = Vec::new();
            if let Some(after) = self.rest.strip_prefix(')') {
                self.rest = after;
                return Ok((name, Some(args)));
            }
            loop {
                args.push(self.argument()?);
                self.rest = self.rest.trim_start();
                if let Some(after) = self.rest.strip_prefix(',') {
                    self.rest = after.trim_start();
                } else if let Some(after) = self.rest.strip_prefix(')') {
                    self.rest = after;
                    return Ok((name, Some(args)));
                } else {
                    return Err(format!("expected `,` or `)` in the arguments of `{name}`"));
                }
            }
        }

        /// An integer or a quoted string; a quote doubled inside a string is one quote.
        fn argument(&mut self) -> Result<Arg, String> {
            let Some(first) = self.rest.chars().next() else {
                return Err("expected an argument".to_owned());
            };
            if first == '"' || first == '\'' {
                let mut text = String::new();
                let mut chars = self.rest.char_indices().skip(1).peekable();
                while let Some((idx, c)) = chars.next() {
                    if c != first {
                        text.push(c);
                    } else if chars.next_if(|&(_, next)| next == first).is_some() {
                        text.push(first);
                    } else {
                        self.rest = &self.rest[idx + 1..];
                        return Ok(Arg::Text(text));
                    }
                }
                return Err("unterminated string argument".to_owned());
            }
            let sign = usize::from(first == '-' || first == '+');
            let digits = self.rest[sign..]
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(self.rest.len() - sign);
            if digits == 0 {
                return Err(format!(
                    "expected a number or a quoted string at `{}`",
                    self.rest
                ));
            }
            let literal = &self.rest[..sign + digits];
            let n = literal
                .parse::<i32>()
                .map_err(|_| format!("`{literal}` does not fit a Java int"))?;
            self.rest = &self.rest[sign + digits..];
            Ok(Arg::Int(n))
        }
    }
}

/// DolphinScheduler's `$[…]` time macros over [`calendar`].
mod dolphin {
    use chrono::Datelike as _;

    use super::calendar::{self, Zoned};

    const FUNCTIONS: &str = "add_months, month_begin, month_end, week_begin, week_end, \
                             month_first_day, month_last_day, week_first_day, week_last_day, \
                             this_day, last_day";

    /// Evaluates the body of `$[…]`.
    pub(super) fn evaluate(body: &str, base: Zoned) -> Result<String, String> {
        if let Some((name, args)) = function_call(body) {
            return call(name, args, base);
        }
        // The offset starts at the last `+` or `-` followed by a digit: `yyyy-MM-dd-1`.
        let offset_at = body
            .rmatch_indices(['+', '-'])
            .map(|(idx, _)| idx)
            .find(|&idx| body[idx + 1..].starts_with(|c: char| c.is_ascii_digit()));
        match offset_at {
            Some(idx) => format(&apply_offset(base, &body[idx..])?, &body[..idx]),
            None => format(&base, body),
        }
    }

    fn format(t: &Zoned, pattern: &str) -> Result<String, String> {
        let mut quoted = false;
        let has_letter = pattern.chars().any(|c| {
            if c == '\'' {
                quoted = !quoted;
            }
            !quoted && c.is_ascii_alphabetic()
        });
        if !has_letter {
            return Err("there is no date pattern in it, e.g. $[yyyyMMdd] \
                        (for shell arithmetic write $((…)))"
                .to_owned());
        }
        calendar::format(t, pattern)
    }

    /// `name(args)` where the name looks like a DolphinScheduler function (`word_word`).
    fn function_call(body: &str) -> Option<(&str, &str)> {
        let open = body.find('(')?;
        let name = &body[..open];
        let args = body[open + 1..].strip_suffix(')')?;
        let is_name =
            name.contains('_') && name.chars().all(|c| c.is_ascii_lowercase() || c == '_');
        is_name.then_some((name, args))
    }

    /// `+N`/`-N` days, `±7*N` weeks, `±N/24` hours, `±N/24/60` minutes.
    fn apply_offset(base: Zoned, offset: &str) -> Result<Zoned, String> {
        let (sign, magnitude) = offset.split_at(1);
        let (field, count) = if let Some(n) = magnitude.strip_suffix("/24/60") {
            (calendar::MINUTE, n)
        } else if let Some(n) = magnitude.strip_suffix("/24") {
            (calendar::HOUR_OF_DAY, n)
        } else if let Some(n) = magnitude.strip_prefix("7*") {
            (calendar::WEEK_OF_YEAR, n)
        } else {
            (calendar::DAY_OF_MONTH, magnitude)
        };
        let unsupported = || {
            format!(
                "unsupported offset `{offset}`: use +N or -N (days), +7*N (weeks), \
                 +N/24 (hours) or +N/24/60 (minutes)"
            )
        };
        if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) {
            return Err(unsupported());
        }
        let count: i32 = count.parse().map_err(|_| unsupported())?;
        calendar::add(base, field, if sign == "-" { -count } else { count })
    }

    fn call(name: &str, args: &str, base: Zoned) -> Result<String, String> {
        // Functions with a count take it after the last comma; the pattern may contain commas.
        let with_count = || -> Result<(&str, i32), String> {
            match args.rsplit_once(',') {
                Some((pattern, count)) => Ok((pattern.trim(), parse_count(count.trim())?)),
                None => Ok((args.trim(), 0)),
            }
        };
        let (pattern, target) = match name {
            "this_day" => (args.trim(), base),
            "last_day" => (
                args.trim(),
                calendar::add(base, calendar::DAY_OF_MONTH, -1)?,
            ),
            "add_months" => {
                if !args.contains(',') {
                    return Err("add_months takes a pattern and a number of months".to_owned());
                }
                let (pattern, n) = with_count()?;
                (pattern, calendar::add(base, calendar::MONTH, n)?)
            }
            "month_begin" | "month_end" | "week_begin" | "week_end" => {
                let (pattern, days) = with_count()?;
                let anchor = match name {
                    "month_begin" => first_of_month(base)?,
                    "month_end" => last_of_month(base)?,
                    "week_begin" => monday(base)?,
                    _ => sunday(base)?,
                };
                (
                    pattern,
                    calendar::add(anchor, calendar::DAY_OF_MONTH, days)?,
                )
            }
            "month_first_day" | "month_last_day" => {
                let (pattern, months) = with_count()?;
                let month = calendar::add(base, calendar::MONTH, months)?;
                let day = if name == "month_first_day" {
                    first_of_month(month)?
                } else {
                    last_of_month(month)?
                };
                (pattern, day)
            }
            "week_first_day" | "week_last_day" => {
                let (pattern, weeks) = with_count()?;
                let week = calendar::add(base, calendar::WEEK_OF_YEAR, weeks)?;
                let day = if name == "week_first_day" {
                    monday(week)?
                } else {
                    sunday(week)?
                };
                (pattern, day)
            }
            "year_week" | "timestamp" => return Err(format!("`{name}` is not supported")),
            _ => {
                return Err(format!(
                    "unknown function `{name}`; the functions are {FUNCTIONS}"
                ));
            }
        };
        format(&target, pattern)
    }

    /// `N`, `-N` or a product such as `12*N` / `-12*N`.
    fn parse_count(text: &str) -> Result<i32, String> {
        let invalid = || format!("`{text}` is not a whole number such as 1, -1 or 12*2");
        let mut product: i32 = 1;
        for factor in text.split('*') {
            let factor: i32 = factor.trim().parse().map_err(|_| invalid())?;
            product = product.checked_mul(factor).ok_or_else(invalid)?;
        }
        Ok(product)
    }

    fn first_of_month(t: Zoned) -> Result<Zoned, String> {
        calendar::set(t, calendar::DAY_OF_MONTH, 1)
    }

    /// As DolphinScheduler: next month's first day, minus one day.
    fn last_of_month(t: Zoned) -> Result<Zoned, String> {
        let next = calendar::set(
            calendar::add(t, calendar::MONTH, 1)?,
            calendar::DAY_OF_MONTH,
            1,
        )?;
        calendar::add(next, calendar::DAY_OF_MONTH, -1)
    }

    /// Monday of the Monday-to-Sunday week.
    fn monday(t: Zoned) -> Result<Zoned, String> {
        let date = t.date_naive();
        let back = i64::from(date.weekday().num_days_from_monday());
        calendar::on_date(t, calendar::shift(date, -back)?)
    }

    /// Sunday of the Monday-to-Sunday week.
    fn sunday(t: Zoned) -> Result<Zoned, String> {
        let date = t.date_naive();
        let ahead = 6 - i64::from(date.weekday().num_days_from_monday());
        calendar::on_date(t, calendar::shift(date, ahead)?)
    }
}

/// Just enough of a shell lexer to know the quoting around a byte offset.
mod shell {
    /// How the shell reads text at an offset.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(super) enum Context {
        Unquoted,
        SingleQuoted,
        DoubleQuoted,
        /// Inside `$'…'`.
        AnsiC,
        Comment,
        HereDoc {
            /// The delimiter was not quoted: `$`, backticks and `\` are active in the body.
            expands: bool,
        },
        /// Right after a backslash that escapes the next character.
        Escaped,
    }

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(super) struct Place {
        context: Context,
        /// Inside old-style `` `…` `` command substitution, which strips one level of `\`.
        in_backticks: bool,
    }

    enum Frame {
        Single,
        Double,
        AnsiC,
        /// `$(`, read like unquoted text.
        Subst,
        Backtick,
        HereDoc(HereDoc),
    }

    struct HereDoc {
        delimiter: Vec<u8>,
        strip_tabs: bool,
        expands: bool,
    }

    /// The place of each offset (ascending) in `text`, and whether all quotes, substitutions
    /// and here-documents close by the end.
    pub(super) fn places(text: &str, offsets: &[usize]) -> (Vec<Place>, bool) {
        let bytes = text.as_bytes();
        let mut frames: Vec<Frame> = Vec::new();
        let mut pending: Vec<HereDoc> = Vec::new();
        let mut comment = false;
        let mut escaped = false;
        let mut line_start = true;
        let mut places = Vec::with_capacity(offsets.len());
        let mut idx = 0;
        loop {
            while offsets
                .get(places.len())
                .is_some_and(|&offset| offset <= idx)
            {
                places.push(place(&frames, comment, escaped));
            }
            let Some(&c) = bytes.get(idx) else { break };
            let next = bytes.get(idx + 1).copied();
            let at_line_start = line_start;
            line_start = c == b'\n';
            idx += 1;
            if escaped {
                escaped = false;
                continue;
            }
            if comment {
                if c != b'\n' {
                    continue;
                }
                comment = false;
            }
            match frames.last() {
                Some(Frame::HereDoc(doc)) => {
                    if at_line_start && ends_here_doc(bytes, idx - 1, doc) {
                        // Leave the line's newline to whatever comes after the document.
                        idx = bytes[idx - 1..]
                            .iter()
                            .position(|&b| b == b'\n')
                            .map_or(bytes.len(), |len| idx - 1 + len);
                        frames.pop();
                    } else if doc.expands {
                        match (c, next) {
                            (b'\\', _) => escaped = true,
                            (b'$', Some(b'(')) => {
                                frames.push(Frame::Subst);
                                idx += 1;
                            }
                            (b'`', _) => frames.push(Frame::Backtick),
                            _ => {}
                        }
                    }
                }
                Some(Frame::Single) => {
                    if c == b'\'' {
                        frames.pop();
                    }
                }
                Some(Frame::AnsiC) => match c {
                    b'\\' => escaped = true,
                    b'\'' => {
                        frames.pop();
                    }
                    _ => {}
                },
                Some(Frame::Double) => match (c, next) {
                    (b'\\', _) => escaped = true,
                    (b'"', _) => {
                        frames.pop();
                    }
                    (b'$', Some(b'(')) => {
                        frames.push(Frame::Subst);
                        idx += 1;
                    }
                    (b'`', _) => frames.push(Frame::Backtick),
                    _ => {}
                },
                top => {
                    let in_subst = matches!(top, Some(Frame::Subst));
                    let in_backticks = matches!(top, Some(Frame::Backtick));
                    match (c, next) {
                        (b'\\', _) => escaped = true,
                        (b'\'', _) => frames.push(Frame::Single),
                        (b'"', _) => frames.push(Frame::Double),
                        (b'$', Some(b'(')) => {
                            frames.push(Frame::Subst);
                            idx += 1;
                        }
                        (b'$', Some(b'\'')) => {
                            frames.push(Frame::AnsiC);
                            idx += 1;
                        }
                        (b'`', _) if in_backticks => {
                            frames.pop();
                        }
                        (b'`', _) => frames.push(Frame::Backtick),
                        (b')', _) if in_subst => {
                            frames.pop();
                        }
                        (b'#', _) if idx == 1 || is_word_break(bytes[idx - 2]) => comment = true,
                        (b'<', Some(b'<')) if bytes.get(idx + 1) == Some(&b'<') => idx += 2,
                        (b'<', Some(b'<')) => match here_doc(bytes, idx + 1) {
                            Some((doc, end)) => {
                                pending.push(doc);
                                idx = end;
                            }
                            None => idx += 1,
                        },
                        (b'\n', _) => {
                            // Bodies follow in the order the operators appeared.
                            frames.extend(pending.drain(..).rev().map(Frame::HereDoc));
                        }
                        _ => {}
                    }
                }
            }
        }
        let balanced = frames.is_empty() && pending.is_empty() && !escaped;
        (places, balanced)
    }

    fn place(frames: &[Frame], comment: bool, escaped: bool) -> Place {
        let context = if escaped {
            Context::Escaped
        } else if comment {
            Context::Comment
        } else {
            match frames.last() {
                None | Some(Frame::Subst | Frame::Backtick) => Context::Unquoted,
                Some(Frame::Single) => Context::SingleQuoted,
                Some(Frame::Double) => Context::DoubleQuoted,
                Some(Frame::AnsiC) => Context::AnsiC,
                Some(Frame::HereDoc(doc)) => Context::HereDoc {
                    expands: doc.expands,
                },
            }
        };
        let in_backticks = frames.iter().any(|frame| matches!(frame, Frame::Backtick));
        Place {
            context,
            in_backticks,
        }
    }

    fn is_word_break(byte: u8) -> bool {
        matches!(
            byte,
            b' ' | b'\t' | b'\n' | b';' | b'&' | b'|' | b'(' | b')'
        )
    }

    /// Parses the word after `<<` (`start` is just past it): `<<EOF`, `<<-EOF`, `<<'EOF'`,
    /// `<<"EOF"`, `<<\EOF`. Returns the document and where the word ends.
    fn here_doc(bytes: &[u8], start: usize) -> Option<(HereDoc, usize)> {
        let mut idx = start;
        let strip_tabs = bytes.get(idx) == Some(&b'-');
        if strip_tabs {
            idx += 1;
        }
        while matches!(bytes.get(idx), Some(b' ' | b'\t')) {
            idx += 1;
        }
        let mut delimiter = Vec::new();
        let mut expands = true;
        while let Some(&c) = bytes.get(idx) {
            match c {
                b' ' | b'\t' | b'\n' | b';' | b'&' | b'|' | b'<' | b'>' | b'(' | b')' => break,
                b'\'' | b'"' => {
                    expands = false;
                    let len = bytes[idx + 1..].iter().position(|&b| b == c)?;
                    delimiter.extend_from_slice(&bytes[idx + 1..idx + 1 + len]);
                    idx += len + 2;
                }
                b'\\' => {
                    expands = false;
                    delimiter.extend(bytes.get(idx + 1));
                    idx += 2;
                }
                _ => {
                    delimiter.push(c);
                    idx += 1;
                }
            }
        }
        let doc = HereDoc {
            delimiter,
            strip_tabs,
            expands,
        };
        (!doc.delimiter.is_empty()).then_some((doc, idx))
    }

    /// Whether the line starting at `start` is the document's delimiter line.
    fn ends_here_doc(bytes: &[u8], start: usize, doc: &HereDoc) -> bool {
        let rest = &bytes[start..];
        let mut line = &rest[..rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len())];
        if let Some(without_cr) = line.strip_suffix(b"\r") {
            line = without_cr;
        }
        if doc.strip_tabs {
            while let Some(after_tab) = line.strip_prefix(b"\t") {
                line = after_tab;
            }
        }
        line == doc.delimiter.as_slice()
    }

    /// `'value'`, each `'` written as `'\''`.
    fn quote(value: &str) -> String {
        format!("'{}'", value.replace('\'', r"'\''"))
    }

    fn backslash(value: &str, special: &[char]) -> String {
        let mut out = String::with_capacity(value.len());
        for c in value.chars() {
            if special.contains(&c) {
                out.push('\\');
            }
            out.push(c);
        }
        out
    }

    /// The text that makes the shell read `value` verbatim at `place`; `None` to leave the
    /// placeholder as written (a comment).
    pub(super) fn insertion(
        place: Place,
        value: &str,
        after_dollar: bool,
    ) -> Result<Option<String>, &'static str> {
        let text = match place.context {
            Context::Comment => return Ok(None),
            Context::Escaped => {
                return Err("it directly follows a backslash, which would undo the quoting");
            }
            Context::SingleQuoted => value.replace('\'', r"'\''"),
            Context::AnsiC => backslash(value, &['\\', '\'']),
            Context::HereDoc { .. } if value.contains('\n') => {
                return Err("its value has a line break, which could end the here-document");
            }
            Context::HereDoc { expands: false } => value.to_owned(),
            _ if after_dollar => {
                return Err(
                    "it directly follows a `$`, which would change how the quoting is read",
                );
            }
            Context::HereDoc { expands: true } => backslash(value, &['\\', '$', '`']),
            Context::Unquoted => quote(value),
            Context::DoubleQuoted => format!("\"{}\"", quote(value)),
        };
        Ok(Some(if place.in_backticks {
            backslash(&text, &['\\', '$', '`'])
        } else {
            text
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUSINESS: &str = "2026-01-31T16:30:45Z";
    const NOW: &str = "2026-02-03T20:00:00.250Z";

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn render_full(
        zone: &str,
        business: &str,
        script: &str,
        configs: &[(&str, &str)],
        params: &[(&str, &str)],
    ) -> Result<String, RenderError> {
        let configs = map(configs);
        let params = map(params);
        let ctx = RenderContext {
            business_time: utc(business),
            zone: zone.parse().unwrap(),
            now: utc(NOW),
            configs: &configs,
            params: &params,
        };
        render(script, &ctx)
    }

    /// Business time 2026-01-31 16:30:45 (Saturday) in UTC.
    fn in_utc(script: &str) -> String {
        render_full("UTC", BUSINESS, script, &[], &[]).unwrap()
    }

    /// The same instant in Shanghai: 2026-02-01 00:30:45 (Sunday).
    fn in_shanghai(script: &str) -> String {
        render_full("Asia/Shanghai", BUSINESS, script, &[], &[]).unwrap()
    }

    fn with_configs(script: &str, configs: &[(&str, &str)]) -> Result<String, RenderError> {
        render_full("UTC", BUSINESS, script, configs, &[])
    }

    fn with_params(script: &str, params: &[(&str, &str)]) -> Result<String, RenderError> {
        render_full("UTC", BUSINESS, script, &[], params)
    }

    fn error(zone: &str, script: &str) -> String {
        render_full(zone, BUSINESS, script, &[], &[])
            .unwrap_err()
            .to_string()
    }

    // ---- configs and inheritance

    #[test]
    fn inheritance_nearest_level_wins_and_origins_are_reported() {
        let root = map(&[("a", "root"), ("b", "root")]);
        let folder = map(&[("b", "folder"), ("c", "folder")]);
        let job = map(&[("c", "job"), ("d", "job")]);
        let chain = [&root, &folder, &job];
        assert_eq!(
            effective_configs(&chain),
            map(&[("a", "root"), ("b", "folder"), ("c", "job"), ("d", "job")])
        );
        let origins = config_origins(&chain);
        let summary: Vec<(&str, &str, usize, bool)> = origins
            .iter()
            .map(|(k, o)| (k.as_str(), o.value.as_str(), o.level, o.own))
            .collect();
        assert_eq!(
            summary,
            [
                ("a", "root", 0, false),
                ("b", "folder", 1, false),
                ("c", "job", 2, true),
                ("d", "job", 2, true)
            ]
        );
        assert!(effective_configs(&[]).is_empty());
    }

    #[test]
    fn configs_expand_recursively_and_unknown_keys_stay() {
        let configs = [("a", "${b}-x"), ("b", "${c}${c}"), ("c", "v")];
        assert_eq!(
            with_configs("echo ${a} ${HOME} ${1} ${x:-d} $HOME ${} $${c}", &configs).unwrap(),
            "echo vv-x ${HOME} ${1} ${x:-d} $HOME ${} $v"
        );
    }

    #[test]
    fn config_values_may_hold_date_expressions() {
        let configs = [
            ("dt", "${zdt.addDay(-1).format(\"yyyyMMdd\")}"),
            ("offset", "-2"),
            ("month", "$[add_months(yyyyMM,-1)]"),
        ];
        assert_eq!(
            with_configs(
                "${dt} ${zdt.addDay(${offset}).format('yyyyMMdd')} ${month}",
                &configs
            )
            .unwrap(),
            "20260130 20260129 202512"
        );
    }

    #[test]
    fn config_cycles_are_errors_naming_the_cycle() {
        let err = with_configs("x ${a}", &[("a", "${b}"), ("b", "${a}")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 1, column 3: configs refer to each other in a cycle: a -> b -> a"
        );
        let err = with_configs("\n  ${top}", &[("top", "${a}"), ("a", "x${a}")]).unwrap_err();
        assert_eq!(
            err,
            RenderError::ConfigCycle {
                at: Position {
                    line: 2,
                    column: 3,
                    config: None
                },
                cycle: vec!["a".to_owned(), "a".to_owned()],
            }
        );
        // A cycle the script never reaches is harmless.
        assert_eq!(
            with_configs("ok ${c}", &[("a", "${b}"), ("b", "${a}"), ("c", "1")]).unwrap(),
            "ok 1"
        );
    }

    #[test]
    fn exploding_configs_are_refused() {
        let mut configs = vec![("c0".to_owned(), "0123456789abcdef".repeat(64))];
        for level in 1..=30 {
            let previous = &configs[level - 1].0;
            configs.push((
                format!("c{level}"),
                format!("${{{previous}}}${{{previous}}}"),
            ));
        }
        let configs: Vec<(&str, &str)> = configs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            with_configs("${c30}", &configs).unwrap_err(),
            RenderError::TooLarge {
                limit: MAX_RENDERED_LEN
            }
        );
    }

    // ---- ${zdt…}

    #[test]
    fn zdt_format_and_chains() {
        let script = "${zdt.format(\"yyyyMMdd\")} ${zdt.addDay(-1).format(\"yyyyMMdd\")} \
                      ${zdt.add(2,-1).set(5,1).format('yyyy-MM-dd')} ${zdt}";
        assert_eq!(
            in_utc(script),
            "20260131 20260130 2025-12-01 2026-01-31 16:30:45"
        );
        assert_eq!(
            in_shanghai(script),
            "20260201 20260131 2026-01-01 2026-02-01 00:30:45"
        );
        // Spaces around arguments, both quote styles, a chain ending on the date.
        assert_eq!(
            in_utc("${zdt.add( 2 , -1 ).format( 'yyyy' )}|${zdt.addDay( 1 )}"),
            "2025|2026-02-01 16:30:45"
        );
    }

    #[test]
    fn zdt_month_and_year_adds_clamp_the_day() {
        assert_eq!(in_utc("${zdt.add(2,1).format('yyyy-MM-dd')}"), "2026-02-28");
        assert_eq!(
            in_shanghai("${zdt.add(2,1).format('yyyy-MM-dd')}"),
            "2026-03-01"
        );
        let leap = |script| render_full("UTC", "2024-01-31T08:00:00Z", script, &[], &[]).unwrap();
        assert_eq!(
            leap("${zdt.add(2,1).format('yyyy-MM-dd HH:mm')}"),
            "2024-02-29 08:00"
        );
        assert_eq!(
            leap("${zdt.add(2,1).add(1,1).format('yyyy-MM-dd')}"),
            "2025-02-28"
        );
        assert_eq!(leap("${zdt.add(2,-13).format('yyyy-MM-dd')}"), "2022-12-31");
        // Clamping is per add: two +1 months are not one +2.
        assert_eq!(leap("${zdt.add(2,1).add(2,1).format('MM-dd')}"), "03-29");
        assert_eq!(leap("${zdt.add(2,2).format('MM-dd')}"), "03-31");
    }

    #[test]
    fn zdt_time_getters() {
        // 2026-01-31T16:30:45Z = 1 769 817 600 (midnight) + 59 445 s.
        let script = "${zdt.getTime()} ${zdt.getMillis()} ${zdt.time} ${zdt.addDay(1).getTime()}";
        let expected = "1769877045 1769877045000 1769877045 1769963445";
        assert_eq!(in_utc(script), expected);
        assert_eq!(in_shanghai(script), expected);
        // Now is 2026-02-03T20:00:00.250Z: 4 February already in Shanghai.
        let now =
            "${zdt.getNowMillis()} ${zdt.getToday()} ${zdt.today} ${zdt.addDay(-9).getToday()}";
        assert_eq!(
            in_utc(now),
            "1770148800250 2026-02-03 2026-02-03 2026-02-03"
        );
        assert_eq!(
            in_shanghai(now),
            "1770148800250 2026-02-04 2026-02-04 2026-02-04"
        );
    }

    #[test]
    fn zdt_get_uses_java_field_numbers() {
        let script = "${zdt.get(1)} ${zdt.get(2)} ${zdt.get(3)} ${zdt.get(4)} ${zdt.get(5)} \
                      ${zdt.get(6)} ${zdt.get(7)} ${zdt.get(8)} ${zdt.get(9)} ${zdt.get(10)} \
                      ${zdt.get(11)} ${zdt.get(12)} ${zdt.get(13)} ${zdt.get(14)}";
        // Saturday 31 January: month 0, week 5 of the year (week 1 = Sun 28 Dec 2025 – Sat 3 Jan).
        assert_eq!(in_utc(script), "2026 0 5 5 31 31 7 5 1 4 16 30 45 0");
        // Sunday 1 February 00:30: month 1, week 6, first week of the month.
        assert_eq!(in_shanghai(script), "2026 1 6 1 1 32 1 1 0 0 0 30 45 0");
        // 31 December 2024 (a Tuesday) is in week 1 of 2025.
        let new_year = render_full(
            "UTC",
            "2024-12-31T12:00:00Z",
            "${zdt.get(3)} ${zdt.format('YYYY-ww yyyy')}",
            &[],
            &[],
        );
        assert_eq!(new_year.unwrap(), "1 2025-01 2024");
    }

    #[test]
    fn zdt_set_is_lenient_like_java() {
        let cases = [
            // Feb 31 spills into March.
            ("${zdt.set(2,1).format('yyyy-MM-dd')}", "2026-03-03"),
            // Day 0 is the last day of the previous month.
            ("${zdt.set(5,0).format('yyyy-MM-dd')}", "2025-12-31"),
            ("${zdt.set(2,12).format('yyyy-MM-dd')}", "2027-01-31"),
            (
                "${zdt.set(6,1).format('yyyy-MM-dd HH:mm:ss')}",
                "2026-01-01 16:30:45",
            ),
            ("${zdt.set(1,2020).format('yyyy-MM-dd')}", "2020-01-31"),
            // Monday of the Sunday-to-Saturday week (25–31 January).
            ("${zdt.set(7,2).format('yyyy-MM-dd EEE')}", "2026-01-26 Mon"),
            (
                "${zdt.set(11,0).set(12,0).set(13,0).format('yyyy-MM-dd HH:mm:ss')}",
                "2026-01-31 00:00:00",
            ),
            ("${zdt.set(11,25).format('MM-dd HH')}", "02-01 01"),
            ("${zdt.set(10,1).format('HH:mm')}", "13:30"),
            ("${zdt.set(9,0).format('HH:mm a')}", "04:30 AM"),
            ("${zdt.set(12,-1).format('HH:mm')}", "15:59"),
            ("${zdt.set(14,1500).format('ss.SSS')}", "46.500"),
        ];
        for (script, expected) in cases {
            assert_eq!(in_utc(script), expected, "{script}");
        }
        // The Sunday-based week of Sunday 1 February runs to 7 February.
        assert_eq!(
            in_shanghai("${zdt.set(7,2).format('yyyy-MM-dd')}"),
            "2026-02-02"
        );
    }

    #[test]
    fn zdt_add_fields() {
        let cases = [
            ("${zdt.add(1,-1).format('yyyy-MM-dd')}", "2025-01-31"),
            ("${zdt.add(3,1).format('yyyy-MM-dd')}", "2026-02-07"),
            ("${zdt.add(4,-1).format('yyyy-MM-dd')}", "2026-01-24"),
            ("${zdt.add(5,1).format('yyyy-MM-dd')}", "2026-02-01"),
            ("${zdt.add(7,-6).format('yyyy-MM-dd')}", "2026-01-25"),
            (
                "${zdt.add(9,1).format('yyyy-MM-dd HH:mm')}",
                "2026-02-01 04:30",
            ),
            (
                "${zdt.add(9,-3).format('yyyy-MM-dd HH:mm')}",
                "2026-01-30 04:30",
            ),
            (
                "${zdt.add(10,8).format('yyyy-MM-dd HH:mm')}",
                "2026-02-01 00:30",
            ),
            (
                "${zdt.add(11,-17).format('yyyy-MM-dd HH:mm')}",
                "2026-01-30 23:30",
            ),
            ("${zdt.add(12,90).format('HH:mm')}", "18:00"),
            ("${zdt.add(13,15).format('HH:mm:ss')}", "16:31:00"),
            ("${zdt.add(14,1500).format('HH:mm:ss.SSS')}", "16:30:46.500"),
        ];
        for (script, expected) in cases {
            assert_eq!(in_utc(script), expected, "{script}");
        }
    }

    #[test]
    fn zdt_dst_day_adds_keep_the_wall_clock_but_hour_adds_do_not() {
        let new_york =
            |business, script| render_full("America/New_York", business, script, &[], &[]).unwrap();
        // Clocks go forward on 2027-03-14 at 02:00 EST. Noon EST on the 13th, plus a day, is
        // noon EDT (23 hours later); plus 24 hours is 13:00 EDT.
        let noon = "2027-03-13T17:00:00Z";
        assert_eq!(
            new_york(noon, "${zdt.addDay(1).format('yyyy-MM-dd HH:mm z')}"),
            "2027-03-14 12:00 EDT"
        );
        assert_eq!(
            new_york(noon, "${zdt.add(5,1).format('yyyy-MM-dd HH:mm z')}"),
            "2027-03-14 12:00 EDT"
        );
        assert_eq!(
            new_york(noon, "${zdt.add(11,24).format('yyyy-MM-dd HH:mm z')}"),
            "2027-03-14 13:00 EDT"
        );
        assert_eq!(
            new_york(
                noon,
                "${zdt.addDay(1).getTime()} ${zdt.add(11,24).getTime()}"
            ),
            "1805040000 1805043600"
        );
        // 02:30 on the 14th does not exist. GregorianCalendar.add reads it with the old
        // offset (07:30Z = 03:30 EDT), then corrects by the offset change (-1 h): 01:30 EST.
        assert_eq!(
            new_york(
                "2027-03-13T07:30:00Z",
                "${zdt.addDay(1).format('yyyy-MM-dd HH:mm z')}"
            ),
            "2027-03-14 01:30 EST"
        );
        // set() resolves a missing wall time with the offset before the gap: 02:00 EST = 03:00 EDT.
        assert_eq!(
            new_york("2027-03-14T16:00:00Z", "${zdt.set(11,2).format('HH:mm z')}"),
            "03:00 EDT"
        );
        // Clocks go back on 2027-11-07 at 02:00 EDT; 01:30 happens twice. Adding a day from
        // 01:30 EDT keeps EDT; set() picks the later (standard time) occurrence.
        assert_eq!(
            new_york(
                "2027-11-06T05:30:00Z",
                "${zdt.addDay(1).format('yyyy-MM-dd HH:mm z')}"
            ),
            "2027-11-07 01:30 EDT"
        );
        assert_eq!(
            new_york(
                "2027-11-07T17:00:00Z",
                "${zdt.set(11,1).set(12,30).format('HH:mm z')}"
            ),
            "01:30 EST"
        );
    }

    #[test]
    fn simple_date_format_letters() {
        let pattern = "${zdt.format('G yy yyyy M MM MMM MMMM d dd H HH k K h hh m mm s ss S SSS \
                       E EEE EEEE a D DDD w W F u z Z X XX XXX')}";
        assert_eq!(
            in_utc(pattern),
            "AD 26 2026 1 01 Jan January 31 31 16 16 16 4 4 04 30 30 45 45 0 000 \
             Sat Sat Saturday PM 31 031 5 5 5 6 UTC +0000 Z Z Z"
        );
        assert_eq!(
            in_shanghai(pattern),
            "AD 26 2026 2 02 Feb February 1 01 0 00 24 0 12 12 30 30 45 45 0 000 \
             Sun Sun Sunday AM 32 032 6 1 1 7 CST +0800 +08 +0800 +08:00"
        );
        let new_york = render_full(
            "America/New_York",
            BUSINESS,
            "${zdt.format('z Z XXX')}",
            &[],
            &[],
        );
        assert_eq!(new_york.unwrap(), "EST -0500 -05:00");
        assert_eq!(
            in_utc("${zdt.format(\"yyyy'T'HH '' 'o''clock' 年MM月\")}"),
            "2026T16 ' o'clock 年01月"
        );
        assert_eq!(in_utc("${zdt.format('h ''o''''clock''')}"), "4 o'clock");
    }

    #[test]
    fn yesterday_is_the_business_date_minus_one_unless_configured() {
        assert_eq!(in_utc("dt=${yesterday}"), "dt=20260130");
        assert_eq!(in_shanghai("dt=${yesterday}"), "dt=20260131");
        assert_eq!(
            with_configs("dt=${yesterday}", &[("yesterday", "mine")]).unwrap(),
            "dt=mine"
        );
    }

    // ---- $[…]

    #[test]
    fn dolphin_patterns_and_offsets() {
        let script = "$[yyyyMMdd] $[yyyyMMdd-1] $[yyyyMMdd+7] $[yyyyMMdd-7*2] $[HHmmss-1/24] \
                      $[HHmmss+1/24/60] $[yyyy-MM-dd HH:mm:ss-1/24/60] $[yyyy-MM-dd-1] $[yyyy-MM-dd]";
        assert_eq!(
            in_utc(script),
            "20260131 20260130 20260207 20260117 153045 163145 2026-01-31 16:29:45 2026-01-30 \
             2026-01-31"
        );
        assert_eq!(
            in_shanghai(script),
            "20260201 20260131 20260208 20260118 233045 003145 2026-02-01 00:29:45 2026-01-31 \
             2026-02-01"
        );
    }

    #[test]
    fn dolphin_functions() {
        let script = "$[add_months(yyyyMMdd,-1)] $[add_months(yyyyMMdd,1)] \
                      $[add_months(yyyyMMdd, 12*1)] $[month_begin(yyyyMMdd,0)] \
                      $[month_begin(yyyyMMdd,1)] $[month_end(yyyyMMdd,0)] $[month_end(yyyyMMdd,-1)] \
                      $[week_begin(yyyyMMdd,0)] $[week_end(yyyyMMdd,0)] $[this_day(yyyy-MM-dd)] \
                      $[last_day(yyyy-MM-dd)]";
        // Saturday 31 January: the Monday-to-Sunday week is 26 January – 1 February.
        assert_eq!(
            in_utc(script),
            "20251231 20260228 20270131 20260101 20260102 20260131 20260130 20260126 20260201 \
             2026-01-31 2026-01-30"
        );
        // Sunday 1 February: the same week; February has 28 days.
        assert_eq!(
            in_shanghai(script),
            "20260101 20260301 20270201 20260201 20260202 20260228 20260227 20260126 20260201 \
             2026-02-01 2026-01-31"
        );
        let by_month_and_week = "$[month_first_day(yyyy-MM-dd,-1)] $[month_last_day(yyyy-MM-dd,-1)] \
                                 $[week_first_day(yyyy-MM-dd,-1)] $[week_last_day(yyyy-MM-dd,-1)] \
                                 $[month_end(yyyyMMdd)]";
        assert_eq!(
            in_utc(by_month_and_week),
            "2025-12-01 2025-12-31 2026-01-19 2026-01-25 20260131"
        );
        assert_eq!(
            in_shanghai(by_month_and_week),
            "2026-01-01 2026-01-31 2026-01-19 2026-01-25 20260228"
        );
    }

    #[test]
    fn dolphin_documented_examples() {
        // DolphinScheduler's docs: 2022-08-26 (Friday) and 2022-08-28.
        let on =
            |business, script| render_full("Asia/Shanghai", business, script, &[], &[]).unwrap();
        let friday = "2022-08-26T02:00:00Z";
        assert_eq!(
            on(
                friday,
                "$[this_day(yyyy-MM-dd)] $[last_day(yyyy-MM-dd)] $[month_first_day(yyyy-MM-dd,-1)] \
                 $[week_first_day(yyyy-MM-dd,-1)] $[week_last_day(yyyy-MM-dd,-1)]"
            ),
            "2022-08-26 2022-08-25 2022-07-01 2022-08-15 2022-08-21"
        );
        assert_eq!(
            on("2022-08-28T02:00:00Z", "$[month_last_day(yyyy-MM-dd,-1)]"),
            "2022-07-31"
        );
    }

    #[test]
    fn pipeline_order_and_unterminated_brackets() {
        let configs = [("table", "t_$[yyyyMM]"), ("when", "${zdt.format('HH')}")];
        assert_eq!(
            with_configs(
                "select * from ${table} where h=${when} and d=${yesterday}; arr=$[ x\n]",
                &configs
            )
            .unwrap(),
            "select * from t_202601 where h=16 and d=20260130; arr=$[ x\n]"
        );
        assert_eq!(in_utc("echo $ $$ ${ $["), "echo $ $$ ${ $[");
    }

    // ---- errors

    #[test]
    fn expression_errors_name_the_expression_place_and_reason() {
        assert_eq!(
            error("UTC", "echo ok\n  x=${zdt.adDay(1)}"),
            "line 2, column 5: cannot render `${zdt.adDay(1)}`: unknown method `adDay`; the \
             methods are addDay(n), add(field, n), set(field, n), get(field), \
             format(\"pattern\"), getTime(), getMillis(), getNowMillis(), getToday()"
        );
        assert_eq!(
            error("UTC", "${zdt.format('yyyyMMdd q')}"),
            "line 1, column 1: cannot render `${zdt.format('yyyyMMdd q')}`: unknown pattern \
             letter `q` in pattern `yyyyMMdd q`"
        );
        assert_eq!(
            error("UTC", "a ${zdt.format(\"yyyy-MM-ddTHH\")}"),
            "line 1, column 3: cannot render `${zdt.format(\"yyyy-MM-ddTHH\")}`: unknown \
             pattern letter `T` in pattern `yyyy-MM-ddTHH`"
        );
        assert_eq!(
            error("UTC", "${zdt.format('yyyy').addDay(1)}"),
            "line 1, column 1: cannot render `${zdt.format('yyyy').addDay(1)}`: `addDay` cannot \
             follow a method that returns text or a number"
        );
        assert_eq!(
            error("UTC", "é ${zdt.format(\"yyyy\")"),
            "line 1, column 3: cannot render `${zdt.format(\"yyyy\")`: the closing `}` is missing \
             (or a quote is not closed)"
        );
        assert_eq!(
            error("UTC", "$[1+2]"),
            "line 1, column 1: cannot render `$[1+2]`: there is no date pattern in it, e.g. \
             $[yyyyMMdd] (for shell arithmetic write $((…)))"
        );
        assert_eq!(
            error("UTC", "$[yyyyMMdd+1/12]"),
            "line 1, column 1: cannot render `$[yyyyMMdd+1/12]`: unsupported offset `+1/12`: use \
             +N or -N (days), +7*N (weeks), +N/24 (hours) or +N/24/60 (minutes)"
        );
        assert_eq!(
            error("UTC", "$[add_month(yyyyMMdd,1)]"),
            "line 1, column 1: cannot render `$[add_month(yyyyMMdd,1)]`: unknown function \
             `add_month`; the functions are add_months, month_begin, month_end, week_begin, \
             week_end, month_first_day, month_last_day, week_first_day, week_last_day, this_day, \
             last_day"
        );
        let messages = [
            (
                "${zdt.add(15,1)}",
                "add() does not support field 15 (ZONE_OFFSET)",
            ),
            (
                "${zdt.set(3,1)}",
                "set() does not support field 3 (WEEK_OF_YEAR)",
            ),
            ("${zdt.addDay('1')}", "wrong arguments for `addDay`"),
            ("${zdt.getTime}", "wrong arguments for `getTime`"),
            (
                "${zdt.addDay(99999999999)}",
                "`99999999999` does not fit a Java int",
            ),
            (
                "${zdt.format('zzzz')}",
                "long zone names (`zzzz`) are not supported",
            ),
            (
                "${zdt.format('yyyy)}",
                "the closing `}` is missing (or a quote is not closed)",
            ),
            (
                "${zdt.format(\"'yyyy\")}",
                "unterminated quote in pattern `'yyyy`",
            ),
            ("${zdt..x}", "expected a method name after `.`"),
            ("$[year_week(yyyy-MM-dd)]", "`year_week` is not supported"),
            ("$[add_months(yyyyMMdd,x)]", "`x` is not a whole number"),
        ];
        for (script, reason) in messages {
            let message = error("UTC", script);
            assert!(message.contains(reason), "{script}: {message}");
        }
    }

    #[test]
    fn errors_inside_config_values_name_the_config() {
        let err = with_configs("x\n  ${dt}", &[("dt", "${dt2}"), ("dt2", "$[yyyyMMdd+x1]")]);
        assert_eq!(
            err.unwrap_err().to_string(),
            "line 2, column 3 (in config `dt`): cannot render `$[yyyyMMdd+x1]`: unknown pattern \
             letter `x` in pattern `yyyyMMdd+x1`"
        );
    }

    // ---- run-time parameters

    #[test]
    fn params_are_inserted_single_quoted() {
        let cases = [
            ("$(touch /tmp/pwn)", "'$(touch /tmp/pwn)'"),
            ("`touch /tmp/pwn`", "'`touch /tmp/pwn`'"),
            ("a; touch /tmp/pwn", "'a; touch /tmp/pwn'"),
            ("a\ntouch /tmp/pwn", "'a\ntouch /tmp/pwn'"),
            ("it's", r"'it'\''s'"),
            ("'; touch /tmp/pwn; '", r"''\''; touch /tmp/pwn; '\'''"),
            ("", "''"),
        ];
        for (value, quoted) in cases {
            assert_eq!(
                with_params("echo ${p} --x=${p}", &[("p", value)]).unwrap(),
                format!("echo {quoted} --x={quoted}"),
                "{value}"
            );
        }
    }

    #[test]
    fn params_follow_the_shell_quoting_around_them() {
        let value = "it's $(touch /tmp/pwn) `id` \\";
        let cases = [
            // Double quotes are closed around the single-quoted value.
            (
                "echo \"a ${p} b\"",
                r#"echo "a "'it'\''s $(touch /tmp/pwn) `id` \'" b""#,
            ),
            // Inside single quotes only the quotes need care.
            (
                "echo 'a ${p} b'",
                r"echo 'a it'\''s $(touch /tmp/pwn) `id` \ b'",
            ),
            // Command substitution reads like unquoted text, even inside double quotes.
            (
                "echo \"$(echo ${p})\"",
                r#"echo "$(echo 'it'\''s $(touch /tmp/pwn) `id` \')""#,
            ),
            // Backticks strip one level of backslashes, so `\`, `$` and backticks get one more.
            (
                "x=`echo ${p}`",
                r"x=`echo 'it'\\''s \$(touch /tmp/pwn) \`id\` \\'`",
            ),
            // $'…' treats backslashes as escapes.
            (
                "echo $'a ${p}'",
                r"echo $'a it\'s $(touch /tmp/pwn) `id` \\'",
            ),
            // Comments do not run: left as written.
            (
                "# don't use ${p}\necho ${p}",
                "# don't use ${p}\necho 'it'\\''s $(touch /tmp/pwn) `id` \\'",
            ),
        ];
        for (script, expected) in cases {
            assert_eq!(
                with_params(script, &[("p", value)]).unwrap(),
                expected,
                "{script}"
            );
        }
    }

    #[test]
    fn params_in_here_documents() {
        let value = "$(touch /tmp/pwn) `id` \\ it's";
        assert_eq!(
            with_params("cat <<EOF\nv=${p}\nEOF\necho ${p}", &[("p", value)]).unwrap(),
            "cat <<EOF\nv=\\$(touch /tmp/pwn) \\`id\\` \\\\ it's\nEOF\necho '$(touch /tmp/pwn) `id` \\ it'\\''s'"
        );
        assert_eq!(
            with_params("hive <<-'SQL'\n\tselect '${p}';\n\tSQL\n", &[("p", value)]).unwrap(),
            "hive <<-'SQL'\n\tselect '$(touch /tmp/pwn) `id` \\ it's';\n\tSQL\n"
        );
        // Two documents on one line: bodies follow in order, each with its own rules.
        assert_eq!(
            with_params(
                "cat <<A - <<'B'\n${p}\nA\n${p}\nB\ncat <<< ${p}",
                &[("p", value)]
            )
            .unwrap(),
            "cat <<A - <<'B'\n\\$(touch /tmp/pwn) \\`id\\` \\\\ it's\nA\n\
             $(touch /tmp/pwn) `id` \\ it's\nB\ncat <<< '$(touch /tmp/pwn) `id` \\ it'\\''s'"
        );
        let err = with_params("cat <<EOF\n${p}\nEOF\n", &[("p", "x\nEOF\ntouch /tmp/pwn")]);
        assert_eq!(
            err.unwrap_err().to_string(),
            "line 2, column 1: cannot insert run-time parameter `p`: its value has a line break, \
             which could end the here-document"
        );
    }

    #[test]
    fn params_where_quoting_cannot_be_trusted_are_refused() {
        let backslash = with_params("echo \\${p}", &[("p", "x")]).unwrap_err();
        assert_eq!(
            backslash.to_string(),
            "line 1, column 7: cannot insert run-time parameter `p`: it directly follows a \
             backslash, which would undo the quoting"
        );
        let dollar = with_params("echo $${p}", &[("p", "x")]).unwrap_err();
        assert!(
            dollar.to_string().contains("directly follows a `$`"),
            "{dollar}"
        );
        let unbalanced = with_params("echo \"${p}", &[("p", "x")]).unwrap_err();
        assert!(
            unbalanced.to_string().contains("leaves a quote"),
            "{unbalanced}"
        );
    }

    #[test]
    fn params_are_data_and_win_over_configs() {
        let configs = map(&[("p", "from config"), ("cmd", "run --day ${p}"), ("a", "A")]);
        let params = map(&[("p", "${a} ${zdt.format('yyyy')} $[yyyyMMdd] ${yesterday}")]);
        let ctx = RenderContext {
            business_time: utc(BUSINESS),
            zone: Tz::UTC,
            now: utc(NOW),
            configs: &configs,
            params: &params,
        };
        assert_eq!(
            render("${p} | ${cmd} | ${a}", &ctx).unwrap(),
            "'${a} ${zdt.format('\\''yyyy'\\'')} $[yyyyMMdd] ${yesterday}' | run --day \
             '${a} ${zdt.format('\\''yyyy'\\'')} $[yyyyMMdd] ${yesterday}' | A"
        );
        // A parameter named like a built-in wins too.
        assert_eq!(
            with_params("${yesterday}", &[("yesterday", "x")]).unwrap(),
            "'x'"
        );
    }
}
