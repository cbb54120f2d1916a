//! The log viewer's data, kept compact so a 100 MB log stays cheap: one `String` with the text of
//! every line (ANSI escapes removed), the byte where each line starts, and the colour changes as a
//! sparse list of `(byte, style)`. On top of it: text search, the first error line, the pieces a
//! line is drawn in, and the arithmetic of the virtualised (fixed line height) list.
//!
//! Pure Rust without browser calls, so it is unit-tested natively.

use std::ops::Range;

/// At most this much text is kept; beyond it the oldest quarter of the lines is dropped (and
/// counted), so memory stays bounded on a log of any size.
pub const MAX_BYTES: usize = 128 << 20;
/// A line is drawn up to this many bytes (a 50 MB single-line log must not become one DOM node).
pub const MAX_SHOWN: usize = 4096;
/// At most this many search hits are listed (the count then reads "10000+").
pub const MAX_HITS: usize = 10_000;

/// The ANSI (SGR) style of text: a foreground colour (0: default, 1–8: colours 30–37, 9–16: bright
/// colours 90–97) and whether it is bold.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Style {
    /// The colour index, 0 for the default colour.
    pub colour: u8,
    /// Bold.
    pub bold: bool,
}

impl Style {
    /// Applies the parameters of one SGR sequence (`ESC [ p ; p … m`); unknown ones are ignored.
    fn apply(mut self, params: &str) -> Style {
        let mut params = params.split(';');
        while let Some(param) = params.next() {
            match param.parse::<u8>().unwrap_or(0) {
                // 256-colour and RGB colours (`38;5;n`, `48;2;r;g;b`): skipped with their values.
                38 | 48 | 58 => {
                    let values = if params.next() == Some("2") { 3 } else { 1 };
                    params.by_ref().take(values).for_each(drop);
                }
                0 => self = Style::default(),
                1 => self.bold = true,
                22 => self.bold = false,
                39 => self.colour = 0,
                code @ 30..=37 => self.colour = code - 29,
                code @ 90..=97 => self.colour = code - 81,
                _ => {}
            }
        }
        self
    }
}

/// The lines of one log, received in chunks.
#[derive(Debug)]
pub struct LogBuffer {
    /// Every kept line's text, without line breaks or escapes.
    text: String,
    /// Where each line starts in `text`; the last line is the one still being written.
    starts: Vec<u32>,
    /// Style changes: from byte `.0` of `text` on, the style is `.1`. Sorted by byte.
    styles: Vec<(u32, Style)>,
    /// The style the next text gets.
    style: Style,
    /// The start of an escape sequence cut by the end of a chunk.
    pending_escape: String,
    /// The byte offset in the log the next chunk should start at.
    pub next_offset: u64,
    /// How many lines were dropped from the front to bound memory.
    pub dropped: u64,
    /// Whether the attempt ended and everything was received.
    pub complete: bool,
}

impl Default for LogBuffer {
    fn default() -> Self {
        LogBuffer {
            text: String::new(),
            starts: vec![0],
            styles: Vec::new(),
            style: Style::default(),
            pending_escape: String::new(),
            next_offset: 0,
            dropped: 0,
            complete: false,
        }
    }
}

impl LogBuffer {
    /// Adds text that starts at byte `offset` of the log, skipping what was already received
    /// (a reconnection may resend it) and marking a gap.
    pub fn push(&mut self, offset: u64, text: &str) {
        let end = offset + text.len() as u64;
        if end <= self.next_offset {
            return;
        }
        let text = if offset < self.next_offset {
            let skip = usize::try_from(self.next_offset - offset).unwrap_or(usize::MAX);
            // A resend that does not start on a character boundary is dropped whole.
            let Some(rest) = text.get(skip..) else { return };
            rest
        } else {
            if offset > self.next_offset {
                let missing = offset - self.next_offset;
                self.end_line();
                self.append(&format!(
                    "hera: … {missing} bytes of log are missing here\n"
                ));
            }
            text
        };
        self.next_offset = end;
        if self.pending_escape.is_empty() {
            self.append(text);
        } else {
            let joined = std::mem::take(&mut self.pending_escape) + text;
            self.append(&joined);
        }
        if self.text.len() > MAX_BYTES {
            self.drop_oldest();
        }
    }

    /// Marks the log complete (its last line may lack a line break).
    pub fn finish(&mut self) {
        self.pending_escape.clear();
        self.complete = true;
    }

    /// How many lines there are to show (an empty unfinished last line is not one yet).
    pub fn len(&self) -> usize {
        let open = *self.starts.last().expect("there is always a last line") as usize;
        if open == self.text.len() {
            self.starts.len() - 1
        } else {
            self.starts.len()
        }
    }

    /// How many lines are finished: ended by a line break, or all of them once complete.
    fn finished_lines(&self) -> usize {
        if self.complete {
            self.len()
        } else {
            self.starts.len() - 1
        }
    }

    /// The byte range of line `i` in the text.
    fn range(&self, i: usize) -> Range<usize> {
        let start = self.starts[i] as usize;
        let end = self
            .starts
            .get(i + 1)
            .map_or(self.text.len(), |&next| next as usize);
        start..end
    }

    /// The text of line `i`.
    pub fn line(&self, i: usize) -> &str {
        &self.text[self.range(i)]
    }

    /// The style text at byte `at` has.
    fn style_at(&self, at: usize) -> Style {
        let i = self
            .styles
            .partition_point(|&(start, _)| start as usize <= at);
        i.checked_sub(1)
            .map_or_else(Style::default, |i| self.styles[i].1)
    }

    fn end_line(&mut self) {
        if *self.starts.last().expect("there is always a last line") as usize != self.text.len() {
            self.starts.push(self.text.len() as u32);
        }
    }

    fn set_style(&mut self, style: Style) {
        if style == self.style {
            return;
        }
        self.style = style;
        let at = self.text.len() as u32;
        match self.styles.last_mut() {
            Some(last) if last.0 == at => last.1 = style,
            _ => self.styles.push((at, style)),
        }
    }

    /// Appends raw log text: line breaks start lines, SGR sequences change the style, other
    /// escape sequences and carriage returns are dropped.
    fn append(&mut self, mut rest: &str) {
        while let Some(i) = rest.bytes().position(|b| matches!(b, b'\n' | b'\r' | 0x1b)) {
            self.text.push_str(&rest[..i]);
            let special = &rest[i..];
            let used = match special.as_bytes()[0] {
                b'\n' => {
                    self.starts.push(self.text.len() as u32);
                    1
                }
                b'\r' => 1,
                _ => match escape_len(special) {
                    Some(len) => {
                        if let Some(params) = special[..len]
                            .strip_prefix("\x1b[")
                            .and_then(|s| s.strip_suffix('m'))
                        {
                            self.set_style(self.style.apply(params));
                        }
                        len
                    }
                    None => {
                        self.pending_escape = special.to_owned();
                        return;
                    }
                },
            };
            rest = &special[used..];
        }
        self.text.push_str(rest);
    }

    /// Drops the oldest quarter of the text (whole lines).
    fn drop_oldest(&mut self) {
        let goal = (self.text.len() / 4) as u32;
        let lines = self
            .starts
            .partition_point(|&start| start < goal)
            .min(self.starts.len() - 1);
        let cut = self.starts[lines];
        if lines == 0 || cut == 0 {
            return;
        }
        let first_style = self.style_at(cut as usize);
        self.text.drain(..cut as usize);
        self.starts.drain(..lines);
        self.starts.iter_mut().for_each(|start| *start -= cut);
        let kept = self.styles.partition_point(|&(start, _)| start <= cut);
        self.styles.drain(..kept);
        self.styles.iter_mut().for_each(|run| run.0 -= cut);
        self.styles.insert(0, (0, first_style));
        self.dropped += lines as u64;
    }

    /// The first line that reports an error: it mentions error, exception, failed or traceback
    /// (in any case), or it is Hera's line of a non-zero exit code.
    pub fn first_error(&self) -> Option<usize> {
        const WORDS: [&[u8]; 4] = [b"error", b"exception", b"failed", b"traceback"];
        (0..self.len()).find(|&i| {
            let line = self.line(i);
            WORDS
                .iter()
                .any(|word| find_ignore_case(line.as_bytes(), word, 0).is_some())
                || nonzero_exit(line)
        })
    }

    /// How line `i` is drawn: its pieces (at most [`MAX_SHOWN`] bytes of it) with their style,
    /// whether they are the timestamp, and whether they are a hit of `needle` (the `current`-th
    /// hit in the line being the current one); and how many bytes were left out.
    pub fn pieces(&self, i: usize, needle: &[u8], current: Option<usize>) -> (Vec<Piece>, usize) {
        let range = self.range(i);
        let line = &self.text[range.clone()];
        let mut shown = line.len().min(MAX_SHOWN);
        while !line.is_char_boundary(shown) {
            shown -= 1;
        }
        let stamp = timestamp_len(line).min(shown);
        let hits = hits_in(&line.as_bytes()[..shown], needle);
        let mut cuts = vec![0, stamp, shown];
        cuts.extend(hits.iter().flat_map(|hit| [hit.start, hit.end]));
        let first_run = self
            .styles
            .partition_point(|&(at, _)| at as usize <= range.start);
        cuts.extend(
            self.styles[first_run..]
                .iter()
                .map(|&(at, _)| at as usize - range.start)
                .take_while(|&at| at < shown),
        );
        cuts.sort_unstable();
        cuts.dedup();
        let pieces = cuts
            .windows(2)
            .map(|pair| {
                let hit = hits.iter().position(|hit| hit.contains(&pair[0]));
                Piece {
                    range: pair[0]..pair[1],
                    style: self.style_at(range.start + pair[0]),
                    stamp: pair[0] < stamp,
                    hit: match hit {
                        None => Hit::No,
                        Some(n) if Some(n) == current => Hit::Current,
                        Some(_) => Hit::Yes,
                    },
                }
            })
            .collect();
        (pieces, line.len() - shown)
    }
}

/// A piece of a drawn line.
#[derive(Clone, Debug, PartialEq)]
pub struct Piece {
    /// Its bytes in the line.
    pub range: Range<usize>,
    /// Its ANSI style.
    pub style: Style,
    /// Whether it is the line's `[timestamp]` prefix.
    pub stamp: bool,
    /// Whether it is a search hit.
    pub hit: Hit,
}

/// Whether a piece of a line is a search hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hit {
    /// Not a hit.
    No,
    /// A hit.
    Yes,
    /// The hit the search is at.
    Current,
}

/// The length of an escape sequence at the start of `text` (which starts with ESC): CSI
/// (`ESC [ … final`), OSC (`ESC ] … BEL` or `ESC ] … ESC \`) or a two-byte one; `None` when
/// `text` ends before the sequence does.
fn escape_len(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    match bytes.get(1)? {
        b'[' => bytes[2..]
            .iter()
            .position(|b| (0x40..=0x7e).contains(b))
            .map(|end| end + 3),
        b']' => bytes[2..].iter().enumerate().find_map(|(i, b)| match b {
            0x07 => Some(i + 3),
            0x1b if bytes.get(i + 3) == Some(&b'\\') => Some(i + 4),
            _ => None,
        }),
        // Any other ESC x; the second byte may start a multi-byte character.
        _ => Some(1 + text[1..].chars().next()?.len_utf8()),
    }
}

/// The length of a `[YYYY-MM-DD HH:MM:SS.mmm] ` prefix, 0 without one.
fn timestamp_len(line: &str) -> usize {
    if !line.starts_with('[') {
        return 0;
    }
    line.get(..40)
        .unwrap_or(line)
        .find("] ")
        .map_or(0, |end| end + 2)
}

/// Whether `line` is one Hera itself wrote (`hera: …` after the timestamp).
pub fn is_system(line: &str) -> bool {
    line[timestamp_len(line)..].starts_with("hera: ")
}

/// Whether `line` is Hera's report of a non-zero exit code (`hera: exit code 3; failed`).
fn nonzero_exit(line: &str) -> bool {
    line.split_once("hera: exit code ")
        .is_some_and(|(_, rest)| {
            let code: String = rest
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '-')
                .collect();
            code.parse::<i64>().is_ok_and(|code| code != 0)
        })
}

/// The first place at or after `from` where `needle` (lower case) occurs in `hay`, ignoring
/// ASCII case.
fn find_ignore_case(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let first = *needle.first()?;
    let last_start = hay.len().checked_sub(needle.len())?;
    (from..=last_start).find(|&i| {
        hay[i].to_ascii_lowercase() == first
            && hay[i..i + needle.len()].eq_ignore_ascii_case(needle)
    })
}

/// The non-overlapping places of `needle` (lower case) in `hay`, ignoring ASCII case.
fn hits_in(hay: &[u8], needle: &[u8]) -> Vec<Range<usize>> {
    let mut hits = Vec::new();
    let mut from = 0;
    while let Some(at) = find_ignore_case(hay, needle, from) {
        hits.push(at..at + needle.len());
        from = at + needle.len();
    }
    hits
}

/// A text search over a [`LogBuffer`], extended as lines arrive.
#[derive(Debug, Default)]
pub struct Search {
    /// What is searched, in lower case (ASCII case is ignored).
    pub needle: Vec<u8>,
    /// The line of every hit, in order (a line with two hits is listed twice).
    pub hits: Vec<u32>,
    /// Whether hits beyond [`MAX_HITS`] were left out.
    pub capped: bool,
    /// How many lines were searched.
    searched: usize,
    /// The buffer's `dropped` when the lines were searched.
    dropped: u64,
}

impl Search {
    /// A search for `query` (nothing is found for an empty one).
    pub fn new(query: &str) -> Search {
        Search {
            needle: query.to_ascii_lowercase().into_bytes(),
            ..Search::default()
        }
    }

    /// Searches the lines finished since the last call (all of them again after lines were
    /// dropped).
    pub fn extend(&mut self, log: &LogBuffer) {
        if self.needle.is_empty() {
            return;
        }
        if log.dropped != self.dropped {
            *self = Search {
                needle: std::mem::take(&mut self.needle),
                dropped: log.dropped,
                ..Search::default()
            };
        }
        let end = log.finished_lines();
        for i in self.searched..end {
            if self.capped {
                break;
            }
            let found = hits_in(log.line(i).as_bytes(), &self.needle).len();
            let room = MAX_HITS - self.hits.len();
            self.capped = found > room;
            self.hits
                .extend(std::iter::repeat_n(i as u32, found.min(room)));
        }
        self.searched = end;
    }

    /// The line of hit `n` and which hit it is within that line.
    pub fn locate(&self, n: usize) -> Option<(usize, usize)> {
        let line = *self.hits.get(n)?;
        let first_in_line = self.hits.partition_point(|&l| l < line);
        Some((line as usize, n - first_in_line))
    }

    /// The first hit at or after line `line` (else the first hit).
    pub fn first_from(&self, line: usize) -> Option<usize> {
        if self.hits.is_empty() {
            return None;
        }
        let n = self.hits.partition_point(|&l| (l as usize) < line);
        Some(if n < self.hits.len() { n } else { 0 })
    }
}

/// The height of a line in the list, in CSS pixels (also given to the CSS, as `--line`).
pub const LINE_PX: f64 = 20.0;
/// Browsers cap an element's height (Firefox near 17.9 million pixels): beyond this the list is
/// drawn compressed, the scroll position mapping proportionally to a line.
pub const MAX_HEIGHT_PX: f64 = 8_000_000.0;
/// Lines drawn above and below the visible ones, so a scroll rarely shows a blank edge.
const MARGIN_LINES: usize = 30;

/// The lines a list of `total` lines draws: `first..end`, the first at `top_px` from the top of
/// the scrolled content.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Window {
    /// The first line drawn.
    pub first: usize,
    /// The line after the last one drawn.
    pub end: usize,
    /// Where line `first` is drawn, in pixels from the top of the content.
    pub top_px: f64,
}

/// The height of the scrolled content for `total` lines.
pub fn content_height(total: usize) -> f64 {
    (total as f64 * LINE_PX).min(MAX_HEIGHT_PX)
}

/// How many lines can be at the top of the viewport (the last one shown at its bottom), and
/// how many pixels the content scrolls by: in a compressed list they map proportionally.
fn scroll_range(total: usize, viewport: f64) -> (f64, f64) {
    let lines = (total as f64 - viewport / LINE_PX).max(0.0);
    let pixels = (content_height(total) - viewport).max(0.0);
    (lines, pixels)
}

/// The line (fractional) at the top of the viewport for a scroll position.
fn top_line(total: usize, scroll_top: f64, viewport: f64) -> f64 {
    let (lines, pixels) = scroll_range(total, viewport);
    if pixels <= 0.0 {
        0.0
    } else {
        (scroll_top / pixels).clamp(0.0, 1.0) * lines
    }
}

/// The lines to draw for a scroll position and a viewport height.
pub fn window(total: usize, scroll_top: f64, viewport: f64) -> Window {
    let top = top_line(total, scroll_top, viewport);
    let first_visible = (top.floor() as usize).min(total);
    let visible = (viewport / LINE_PX).ceil() as usize + 1;
    let first = first_visible.saturating_sub(MARGIN_LINES);
    Window {
        first,
        end: (first_visible + visible + MARGIN_LINES).min(total),
        top_px: scroll_top - (top - first as f64) * LINE_PX,
    }
}

/// The scroll position that shows line `line` in the middle of the viewport.
pub fn scroll_to_line(total: usize, line: usize, viewport: f64) -> f64 {
    let (lines, pixels) = scroll_range(total, viewport);
    if lines <= 0.0 {
        return 0.0;
    }
    let top = (line as f64 + 0.5 - viewport / LINE_PX / 2.0).clamp(0.0, lines);
    top / lines * pixels
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(log: &LogBuffer) -> Vec<&str> {
        (0..log.len()).map(|i| log.line(i)).collect()
    }

    #[test]
    fn splits_lines_across_chunks_and_skips_resent_text() {
        let mut log = LogBuffer::default();
        log.push(0, "a\nb");
        assert_eq!(lines(&log), ["a", "b"]);
        log.push(3, "c\nd\n");
        log.push(0, "a\nbc\n"); // resent after a reconnection
        log.push(5, "d\ne"); // overlaps the last two bytes
        log.finish();
        assert_eq!(lines(&log), ["a", "bc", "d", "e"]);
        let mut gap = LogBuffer::default();
        gap.push(0, "a\n");
        gap.push(10, "b\n");
        assert_eq!(
            lines(&gap),
            ["a", "hera: … 8 bytes of log are missing here", "b"]
        );
    }

    #[test]
    fn keeps_colours_and_strips_other_escapes() {
        let mut log = LogBuffer::default();
        log.push(
            0,
            "\x1b[1;31mred\x1b[0m plain\r\n\x1b]0;title\x07\x1b[2Kx\x1b[9",
        );
        log.push(log.next_offset, "2mbright\x1b[39m\x1b[38;5;31m\n");
        assert_eq!(lines(&log), ["red plain", "xbright"]);
        let (pieces, _) = log.pieces(0, b"", None);
        let red = Style {
            colour: 2,
            bold: true,
        };
        assert_eq!(
            pieces
                .iter()
                .map(|p| (p.range.clone(), p.style))
                .collect::<Vec<_>>(),
            [(0..3, red), (3..9, Style::default())]
        );
        let (pieces, _) = log.pieces(1, b"", None);
        assert_eq!(pieces[1].style.colour, 11);
        assert_eq!(pieces[1].range, 1..7);
    }

    #[test]
    fn pieces_mark_the_timestamp_and_hits() {
        let mut log = LogBuffer::default();
        log.push(0, "[2026-11-24 13:10:02.123] Error: an error\n");
        let (pieces, cut) = log.pieces(0, b"error", Some(1));
        assert_eq!(cut, 0);
        let marks: Vec<_> = pieces
            .iter()
            .map(|p| (&log.line(0)[p.range.clone()], p.stamp, p.hit))
            .collect();
        assert_eq!(
            marks,
            [
                ("[2026-11-24 13:10:02.123] ", true, Hit::No),
                ("Error", false, Hit::Yes),
                (": an ", false, Hit::No),
                ("error", false, Hit::Current),
            ]
        );
    }

    #[test]
    fn long_lines_are_cut_for_drawing() {
        let mut log = LogBuffer::default();
        log.push(0, &"é".repeat(MAX_SHOWN));
        let (pieces, cut) = log.pieces(0, b"", None);
        assert_eq!(pieces.last().unwrap().range.end, MAX_SHOWN);
        assert_eq!(cut, MAX_SHOWN);
    }

    #[test]
    fn finds_the_first_error() {
        let mut log = LogBuffer::default();
        log.push(0, "ok\nhera: exit code 0; succeeded\nstill ok\n");
        assert_eq!(log.first_error(), None);
        log.push(log.next_offset, "Traceback (most recent call last):\n");
        assert_eq!(log.first_error(), Some(3));
        let mut exit = LogBuffer::default();
        exit.push(0, "fine\n[2026-11-24 13:10:02.123] hera: exit code 3\n");
        assert_eq!(exit.first_error(), Some(1));
    }

    #[test]
    fn search_extends_as_lines_arrive() {
        let mut log = LogBuffer::default();
        let mut search = Search::new("LINE");
        log.push(0, "line 1 line\nno\nline 3");
        search.extend(&log);
        assert_eq!(search.hits, [0, 0]);
        log.push(log.next_offset, "\n");
        search.extend(&log);
        assert_eq!(search.hits, [0, 0, 2]);
        assert_eq!(search.locate(1), Some((0, 1)));
        assert_eq!(search.locate(2), Some((2, 0)));
        assert_eq!(search.first_from(1), Some(2));
        assert_eq!(search.first_from(3), Some(0));
    }

    #[test]
    fn drops_the_oldest_lines_beyond_the_limit() {
        let mut log = LogBuffer::default();
        let line = format!("\x1b[32m{}\n", "x".repeat(1023));
        let chunk = line.repeat(1024);
        let mut offset = 0;
        while log.dropped == 0 {
            log.push(offset, &chunk);
            offset += chunk.len() as u64;
        }
        assert!(log.text.len() <= MAX_BYTES);
        assert_eq!(log.len() as u64 + log.dropped, offset / line.len() as u64);
        assert_eq!(log.pieces(0, b"", None).0[0].style.colour, 3);
        let mut search = Search::new("x");
        search.extend(&log);
        assert!(search.capped);
    }

    #[test]
    fn windows_cover_the_viewport() {
        // A short list: drawn from the top.
        let w = window(10, 0.0, 400.0);
        assert_eq!((w.first, w.end, w.top_px), (0, 10, 0.0));
        // A long list: a window around the scroll position.
        let w = window(100_000, 20_000.0, 400.0);
        assert_eq!(w.first, 1000 - MARGIN_LINES);
        assert!(w.end >= 1000 + 20);
        assert_eq!(w.top_px, w.first as f64 * LINE_PX);
        // A compressed list: the end of the scroll range shows the last lines at the bottom.
        let total = 2_000_000;
        let bottom = content_height(total) - 400.0;
        let w = window(total, bottom, 400.0);
        assert_eq!(w.end, total);
        let last_bottom = w.top_px + (w.end - w.first) as f64 * LINE_PX;
        assert!((last_bottom - content_height(total)).abs() < 1e-3);
        // Scrolling to a line shows it.
        for line in [0, 1234, 1_000_000, total - 1] {
            let top = scroll_to_line(total, line, 400.0);
            let w = window(total, top, 400.0);
            let y = w.top_px + (line - w.first) as f64 * LINE_PX - top;
            assert!((0.0..400.0).contains(&y), "line {line} at {y}");
        }
    }
}
