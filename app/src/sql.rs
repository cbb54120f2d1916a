//! Splits an SQL job's script into statements, the way the database's own client would: a `;`
//! ends a statement only outside quotes, quoted identifiers, comments and (PostgreSQL) dollar-quoted
//! bodies, so functions, procedures and strings holding `;` stay whole. MySQL scripts may change
//! the delimiter with a `DELIMITER xx` line, as in the `mysql` client.

/// Whose quoting rules apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// PostgreSQL: `'…'` (`E'…'` with backslash escapes), `"…"` identifiers, `$tag$…$tag$`,
    /// `--` and nested `/* */` comments.
    Postgres,
    /// MySQL and MariaDB: `'…'` and `"…"` with backslash escapes, `` `…` `` identifiers, `#`,
    /// `-- ` and `/* */` comments, `DELIMITER` lines.
    MySql,
}

/// One statement of a script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    /// Its text, without the delimiter, trimmed (comments inside it are kept).
    pub text: String,
    /// The 1-based line it starts on.
    pub line: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum State {
    Code,
    Quoted { close: char, backslash: bool },
    LineComment,
    BlockComment { depth: usize },
    Dollar { tag: String },
}

/// The statements of `script`, in order; empty statements and statements holding only comments
/// are left out. An unterminated quote or comment ends the script (the database reports it).
pub fn split(script: &str, dialect: Dialect) -> Vec<Statement> {
    let chars: Vec<char> = script.chars().collect();
    let mut out = Vec::new();
    let mut current = String::new();
    let mut start_line = None;
    let mut line = 1;
    let mut delimiter = ";".to_owned();
    let mut state = State::Code;
    let mut i = 0;
    let finish =
        |current: &mut String, start_line: &mut Option<usize>, out: &mut Vec<Statement>| {
            if let Some(line) = start_line.take() {
                out.push(Statement {
                    text: current.trim().to_owned(),
                    line,
                });
            }
            current.clear();
        };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match &mut state {
            State::Code => {
                if dialect == Dialect::MySql
                    && start_line.is_none()
                    && at_line_start(&chars, i)
                    && let Some((new, end)) = delimiter_line(&chars, i)
                {
                    delimiter = new;
                    line += chars[i..end].iter().filter(|&&c| c == '\n').count();
                    current.clear();
                    i = end;
                    continue;
                }
                if matches_at(&chars, i, &delimiter) {
                    finish(&mut current, &mut start_line, &mut out);
                    i += delimiter.chars().count();
                    continue;
                }
                let comment = match (c, next) {
                    ('-', Some('-')) => {
                        dialect == Dialect::Postgres
                            || chars.get(i + 2).is_none_or(|c| c.is_whitespace())
                    }
                    ('#', _) => dialect == Dialect::MySql,
                    _ => false,
                };
                if comment {
                    state = State::LineComment;
                } else if c == '/' && next == Some('*') {
                    state = State::BlockComment { depth: 1 };
                    if start_line.is_some() {
                        current.push_str("/*");
                    }
                    i += 2;
                    continue;
                } else if !c.is_whitespace() {
                    start_line.get_or_insert(line);
                    match c {
                        '\'' => {
                            let escape_prefix = i > 0
                                && matches!(chars[i - 1], 'E' | 'e')
                                && (i < 2 || !is_word(chars[i - 2]));
                            state = State::Quoted {
                                close: '\'',
                                backslash: dialect == Dialect::MySql || escape_prefix,
                            };
                        }
                        '"' => {
                            state = State::Quoted {
                                close: '"',
                                backslash: dialect == Dialect::MySql,
                            };
                        }
                        '`' if dialect == Dialect::MySql => {
                            state = State::Quoted {
                                close: '`',
                                backslash: false,
                            };
                        }
                        '$' if dialect == Dialect::Postgres
                            && (i == 0 || !is_word(chars[i - 1])) =>
                        {
                            if let Some(tag) = dollar_tag(&chars, i) {
                                let len = tag.chars().count() + 2;
                                current.extend(&chars[i..i + len]);
                                state = State::Dollar { tag };
                                i += len;
                                continue;
                            }
                        }
                        _ => {}
                    }
                }
            }
            State::Quoted { close, backslash } => {
                if *backslash && c == '\\' {
                    current.push(c);
                    if let Some(n) = next {
                        current.push(n);
                        line += usize::from(n == '\n');
                    }
                    i += 2;
                    continue;
                }
                if c == *close {
                    if next == Some(*close) {
                        current.push_str(&format!("{c}{c}"));
                        i += 2;
                        continue;
                    }
                    state = State::Code;
                }
            }
            State::LineComment => {
                if c == '\n' {
                    state = State::Code;
                }
            }
            State::BlockComment { depth } => {
                if c == '*' && next == Some('/') {
                    *depth -= 1;
                    if *depth == 0 {
                        state = State::Code;
                    }
                    if start_line.is_some() {
                        current.push_str("*/");
                    }
                    i += 2;
                    continue;
                }
                if dialect == Dialect::Postgres && c == '/' && next == Some('*') {
                    *depth += 1;
                    if start_line.is_some() {
                        current.push_str("/*");
                    }
                    i += 2;
                    continue;
                }
            }
            State::Dollar { tag } => {
                let closing = format!("${tag}$");
                if matches_at(&chars, i, &closing) {
                    current.push_str(&closing);
                    i += closing.chars().count();
                    state = State::Code;
                    continue;
                }
            }
        }
        // Comments and blanks before a statement's first code are not part of it.
        if start_line.is_some() {
            current.push(c);
        }
        line += usize::from(c == '\n');
        i += 1;
    }
    finish(&mut current, &mut start_line, &mut out);
    out
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn matches_at(chars: &[char], at: usize, text: &str) -> bool {
    (at..)
        .zip(text.chars())
        .all(|(i, t)| chars.get(i) == Some(&t))
}

fn at_line_start(chars: &[char], at: usize) -> bool {
    chars[..at]
        .iter()
        .rev()
        .take_while(|&&c| c != '\n')
        .all(|c| c.is_whitespace())
}

/// A `DELIMITER xx` line starting at `at`: the new delimiter and where the next line starts.
fn delimiter_line(chars: &[char], at: usize) -> Option<(String, usize)> {
    let end = chars[at..]
        .iter()
        .position(|&c| c == '\n')
        .map_or(chars.len(), |p| at + p + 1);
    let text: String = chars[at..end].iter().collect();
    let mut words = text.split_whitespace();
    let keyword = words.next()?;
    if !keyword.eq_ignore_ascii_case("delimiter") {
        return None;
    }
    let new = words.next()?.to_owned();
    words.next().is_none().then_some((new, end))
}

/// The tag of a dollar quote opening at `at` (`$$` gives an empty tag).
fn dollar_tag(chars: &[char], at: usize) -> Option<String> {
    let mut tag = String::new();
    for (n, &c) in chars[at + 1..].iter().enumerate() {
        if c == '$' {
            return Some(tag);
        }
        let ok = if n == 0 {
            c.is_alphabetic() || c == '_'
        } else {
            is_word(c)
        };
        if !ok {
            return None;
        }
        tag.push(c);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(script: &str, dialect: Dialect) -> Vec<String> {
        split(script, dialect).into_iter().map(|s| s.text).collect()
    }

    #[test]
    fn semicolons_inside_quotes_comments_and_bodies_do_not_split() {
        let script = "insert into t values ('a;b', \"c;d\"); -- one; two\n\
                      select 1 /* x; y */ ;\n\
                      create function f() returns int as $body$ begin; return 1; end $body$ language plpgsql;\n\
                      do $$ begin perform 1; end $$;\n\
                      select E'it\\'s; fine', 'it''s; fine';";
        assert_eq!(
            texts(script, Dialect::Postgres),
            [
                "insert into t values ('a;b', \"c;d\")",
                "select 1 /* x; y */",
                "create function f() returns int as $body$ begin; return 1; end $body$ language plpgsql",
                "do $$ begin perform 1; end $$",
                "select E'it\\'s; fine', 'it''s; fine'",
            ]
        );
    }

    #[test]
    fn lines_are_where_statements_start_and_comment_only_tails_are_dropped() {
        let script = "-- header\n\nselect 1;\n  select\n 2 ;\n-- trailer;\n/* done */\n";
        let statements = split(script, Dialect::Postgres);
        assert_eq!(
            statements,
            [
                Statement {
                    text: "select 1".into(),
                    line: 3
                },
                Statement {
                    text: "select\n 2".into(),
                    line: 4
                },
            ]
        );
        assert!(split(" ;; \n;", Dialect::Postgres).is_empty());
    }

    #[test]
    fn postgres_specifics() {
        // Nested block comments, positional parameters are not dollar quotes, a last statement
        // without `;`.
        assert_eq!(
            texts(
                "/* a /* b; */ c; */ select $1::int; select 'x'",
                Dialect::Postgres
            ),
            ["select $1::int", "select 'x'"]
        );
        // In PostgreSQL a backslash in a plain string is just a character.
        assert_eq!(
            texts(r"select 'C:\'; select 2", Dialect::Postgres),
            [r"select 'C:\'", "select 2"]
        );
    }

    #[test]
    fn mysql_specifics() {
        let script = "select `a;b` from t # note; here\n;\n\
                      select 'x\\'; y';\n\
                      DELIMITER //\n\
                      create procedure p() begin select 1; select 2; end//\n\
                      delimiter ;\n\
                      select 3;--not a comment in MySQL\n";
        assert_eq!(
            texts(script, Dialect::MySql),
            [
                "select `a;b` from t # note; here",
                "select 'x\\'; y'",
                "create procedure p() begin select 1; select 2; end",
                "select 3",
                "--not a comment in MySQL",
            ]
        );
    }

    #[test]
    fn unterminated_quotes_end_the_script() {
        assert_eq!(
            texts("select 1; select 'open; select 2", Dialect::Postgres),
            ["select 1", "select 'open; select 2"]
        );
    }
}
