//! Thin helpers over browser APIs: localStorage, the clock, the local time zone, and formatting of
//! instants and durations for display.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, TimeDelta, TimeZone, Utc};
use wasm_bindgen::JsValue;

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// Reads a value from localStorage.
pub fn load(key: &str) -> Option<String> {
    storage()?.get_item(key).ok().flatten()
}

/// Writes a value to localStorage (`None` removes it). Storage may be unavailable (private mode):
/// then the value simply is not remembered.
pub fn store(key: &str, value: Option<&str>) {
    if let Some(storage) = storage() {
        let _ = match value {
            Some(value) => storage.set_item(key, value),
            None => storage.remove_item(key),
        };
    }
}

/// The browser's preferred language tag, e.g. `zh-CN`.
pub fn language() -> Option<String> {
    web_sys::window()?.navigator().language()
}

/// Sets an attribute of `<html>` (`lang`, `data-theme`).
pub fn set_document_attribute(name: &str, value: &str) {
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = root.set_attribute(name, value);
    }
}

/// Now, from the browser's clock.
pub fn now() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(js_sys::Date::now() as i64).unwrap_or_default()
}

/// The browser's IANA time zone, e.g. `Asia/Shanghai`.
pub fn time_zone() -> Option<String> {
    let format = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new());
    js_sys::Reflect::get(&format.resolved_options(), &JsValue::from_str("timeZone"))
        .ok()?
        .as_string()
}

fn to_local(at: DateTime<Utc>) -> DateTime<FixedOffset> {
    let date = js_sys::Date::new(&JsValue::from_f64(at.timestamp_millis() as f64));
    // getTimezoneOffset is UTC minus local, in minutes.
    let offset = FixedOffset::west_opt(date.get_timezone_offset() as i32 * 60)
        .unwrap_or_else(|| FixedOffset::east_opt(0).expect("zero offset is valid"));
    at.with_timezone(&offset)
}

/// Today's date in the browser's time zone.
pub fn today() -> NaiveDate {
    to_local(now()).date_naive()
}

/// An instant in the browser's local time, `2026-11-24 13:10:02`.
pub fn local(at: DateTime<Utc>) -> String {
    to_local(at).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// An instant in local time for tables: `11-24 13:10:02` in the current year, else in full;
/// empty when absent.
pub fn local_short(at: Option<DateTime<Utc>>) -> String {
    let Some(at) = at.map(to_local) else {
        return String::new();
    };
    if at.year() == to_local(now()).year() {
        at.format("%m-%d %H:%M:%S").to_string()
    } else {
        at.format("%Y-%m-%d %H:%M:%S").to_string()
    }
}

/// Like [`local`] for an optional instant; empty when absent.
pub fn local_opt(at: Option<DateTime<Utc>>) -> String {
    at.map(local).unwrap_or_default()
}

/// An instant in an IANA zone (falling back to UTC), with the zone's abbreviation.
pub fn in_zone(at: DateTime<Utc>, zone: &str) -> String {
    match app::cron::parse_zone(zone) {
        Ok(tz) => at
            .with_timezone(&tz)
            .format("%Y-%m-%d %H:%M:%S %Z")
            .to_string(),
        Err(_) => at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    }
}

/// The calendar date of an instant in an IANA zone (UTC when the zone is unknown).
pub fn date_in_zone(at: DateTime<Utc>, zone: &str) -> NaiveDate {
    match app::cron::parse_zone(zone) {
        Ok(tz) => at.with_timezone(&tz).date_naive(),
        Err(_) => at.date_naive(),
    }
}

/// The time of day of an instant in an IANA zone, `03:00` (`03:00:15` when not on the minute).
pub fn time_in_zone(at: DateTime<Utc>, zone: &str) -> String {
    let local = match app::cron::parse_zone(zone) {
        Ok(tz) => at.with_timezone(&tz).naive_local(),
        Err(_) => at.naive_utc(),
    };
    if local.and_utc().timestamp() % 60 == 0 {
        local.format("%H:%M").to_string()
    } else {
        local.format("%H:%M:%S").to_string()
    }
}

/// The instant a wall-clock time has in an IANA zone (UTC when the zone is unknown); the earlier
/// one when a clock change repeats it, `None` when a clock change skips it.
pub fn from_zone(local: NaiveDateTime, zone: &str) -> Option<DateTime<Utc>> {
    match app::cron::parse_zone(zone) {
        Ok(tz) => tz
            .from_local_datetime(&local)
            .earliest()
            .map(|at| at.with_timezone(&Utc)),
        Err(_) => Some(local.and_utc()),
    }
}

/// A business time as typed: RFC 3339 (`2026-10-01T02:00:00+08:00`), or a wall-clock time in
/// `zone`: `2026-10-01 02:00`, `2026-10-01 02:00:30` or the `T`-separated form of a
/// `datetime-local` input.
pub fn parse_time_in_zone(text: &str, zone: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    let text = text.replacen('T', " ", 1);
    ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(&text, format).ok())
        .and_then(|local| from_zone(local, zone))
}

/// A duration as `2h 03m`, `4m 05s` or `7s`.
pub fn duration(delta: TimeDelta) -> String {
    let secs = delta.num_seconds().max(0);
    match (secs / 3600, secs / 60 % 60, secs % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, s) => format!("{m}m {s:02}s"),
        (h, m, _) => format!("{h}h {m:02}m"),
    }
}

/// How long something that started at `start` ran: until `end`, or until now while it runs.
pub fn elapsed(start: Option<DateTime<Utc>>, end: Option<DateTime<Utc>>) -> String {
    start
        .map(|start| duration(end.unwrap_or_else(now) - start))
        .unwrap_or_default()
}

/// The name and text of the first file chosen in a file input (the browser's File API).
pub async fn read_chosen_file(input: &web_sys::HtmlInputElement) -> Option<(String, String)> {
    let file = input.files()?.get(0)?;
    let text = wasm_bindgen_futures::JsFuture::from(file.text())
        .await
        .ok()?;
    Some((file.name(), text.as_string()?))
}

/// Saves `parts` (JS strings) as a text file named `name`.
pub fn save_file(name: &str, parts: &js_sys::Array) -> Result<(), JsValue> {
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("text/plain;charset=utf-8");
    let blob = web_sys::Blob::new_with_str_sequence_and_options(parts, &options)?;
    save_blob(name, &blob)
}

/// Saves `blob` as a file named `name`: an object URL behind a clicked temporary download link.
pub fn save_blob(name: &str, blob: &web_sys::Blob) -> Result<(), JsValue> {
    use wasm_bindgen::JsCast;
    let url = web_sys::Url::create_object_url_with_blob(blob)?;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| JsValue::from_str("no document"))?;
    let link = document
        .create_element("a")?
        .dyn_into::<web_sys::HtmlAnchorElement>()?;
    link.set_href(&url);
    link.set_download(name);
    link.click();
    // The browser has taken the file once the click is handled.
    leptos::prelude::set_timeout(
        move || {
            let _ = web_sys::Url::revoke_object_url(&url);
        },
        std::time::Duration::from_secs(10),
    );
    Ok(())
}

/// Bytes as `1.5 GiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn business_times_are_read_in_the_zone() {
        let utc = |text: &str| {
            DateTime::parse_from_rfc3339(text)
                .unwrap()
                .with_timezone(&Utc)
        };
        let expected = utc("2026-09-30T18:00:00Z");
        for text in [
            "2026-10-01 02:00",
            "2026-10-01 02:00:00",
            "2026-10-01T02:00",
            " 2026-10-01T02:00:00+08:00 ",
        ] {
            assert_eq!(
                parse_time_in_zone(text, "Asia/Shanghai"),
                Some(expected),
                "{text}"
            );
        }
        assert_eq!(
            parse_time_in_zone("2026-10-01 02:00", "UTC"),
            Some(utc("2026-10-01T02:00:00Z"))
        );
        assert_eq!(parse_time_in_zone("yesterday", "UTC"), None);
        assert_eq!(parse_time_in_zone("2026-13-01 02:00", "UTC"), None);
    }

    #[test]
    fn dates_and_times_are_shown_in_the_zone() {
        let at = DateTime::parse_from_rfc3339("2026-09-30T18:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(date_in_zone(at, "Asia/Shanghai").to_string(), "2026-10-01");
        assert_eq!(date_in_zone(at, "UTC").to_string(), "2026-09-30");
        assert_eq!(time_in_zone(at, "Asia/Shanghai"), "02:00");
        assert_eq!(time_in_zone(at + TimeDelta::seconds(5), "UTC"), "18:00:05");
    }
}
