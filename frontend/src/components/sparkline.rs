//! The one sparkline: a small line-and-area chart of a series, drawn as inline SVG from Rust (no
//! chart library), with the latest value beside it. The cluster page shows a worker's CPU, memory
//! and load history with it.

use leptos::prelude::*;

/// Drawing size in SVG user units; the element is drawn at this size in CSS pixels too.
const WIDTH: f64 = 64.0;
const HEIGHT: f64 = 24.0;
/// Room kept at the top and bottom so the line is not cut by the edge.
const PAD: f64 = 2.0;

/// A sparkline of `values` (oldest first). `max` fixes the top of the scale (100 for
/// percentages); without it the scale fits the highest value. `kind` names the series for the
/// colour (`.spark-cpu`, `.spark-memory`, `.spark-load`) and the test id. `title` is the hover
/// text, `value` the text shown beside the line.
#[component]
pub fn Sparkline(
    values: Vec<f64>,
    #[prop(optional)] max: Option<f64>,
    kind: &'static str,
    #[prop(into)] title: Signal<String>,
    value: String,
) -> impl IntoView {
    let top = scale_top(&values, max);
    let line = points(&values, top, WIDTH, HEIGHT);
    let area = (!line.is_empty()).then(|| {
        let first = values.len().saturating_sub(1);
        let left = x_of(0, first + 1, WIDTH);
        let right = x_of(first, first + 1, WIDTH);
        view! {
            <polygon
                class="spark-area"
                points=format!("{left:.1},{HEIGHT} {line} {right:.1},{HEIGHT}")
            ></polygon>
        }
    });
    let empty = values.is_empty();
    let samples = values.len();
    view! {
        <span class=format!("spark spark-{kind}") title=title data-testid=format!("spark-{kind}")>
            <svg
                class="sparkline"
                width=WIDTH
                height=HEIGHT
                viewBox=format!("0 0 {WIDTH} {HEIGHT}")
                role="img"
                aria-label=title
                data-samples=samples
            >
                <line class="spark-base" x1="0" x2=WIDTH y1=HEIGHT - 0.5 y2=HEIGHT - 0.5></line>
                {area}
                {(!empty).then(|| view! { <polyline class="spark-line" points=line.clone()></polyline> })}
            </svg>
            <span class="spark-value">{value}</span>
        </span>
    }
}

/// The top of the scale: `max` when given, else the highest value (at least 1, so a flat zero
/// line stays at the bottom).
fn scale_top(values: &[f64], max: Option<f64>) -> f64 {
    max.unwrap_or_else(|| values.iter().copied().fold(1.0, f64::max))
        .max(f64::EPSILON)
}

fn x_of(i: usize, n: usize, width: f64) -> f64 {
    if n <= 1 {
        width
    } else {
        i as f64 / (n - 1) as f64 * width
    }
}

/// The `points` of the polyline: the values spread over the width, scaled to `top` (values out
/// of range are clamped). One value is drawn as a short flat line at the right.
fn points(values: &[f64], top: f64, width: f64, height: f64) -> String {
    let y = |v: f64| {
        let v = if v.is_finite() {
            v.clamp(0.0, top)
        } else {
            0.0
        };
        height - PAD - v / top * (height - 2.0 * PAD)
    };
    match values {
        [] => String::new(),
        [only] => format!(
            "{:.1},{:.1} {width:.1},{:.1}",
            width - 6.0,
            y(*only),
            y(*only)
        ),
        _ => values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", x_of(i, values.len(), width), y(*v)))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_spread_over_the_width_and_scale_to_the_top() {
        assert_eq!(points(&[], 100.0, 64.0, 24.0), "");
        assert_eq!(
            points(&[0.0, 50.0, 100.0], 100.0, 64.0, 24.0),
            "0.0,22.0 32.0,12.0 64.0,2.0"
        );
        // Out of range and not-a-number values stay inside the box.
        assert_eq!(
            points(&[150.0, f64::NAN], 100.0, 64.0, 24.0),
            "0.0,2.0 64.0,22.0"
        );
        assert_eq!(points(&[50.0], 100.0, 64.0, 24.0), "58.0,12.0 64.0,12.0");
    }

    #[test]
    fn the_scale_fits_the_values_unless_fixed() {
        assert_eq!(scale_top(&[0.2, 3.5, 1.0], None), 3.5);
        assert_eq!(scale_top(&[0.0, 0.0], None), 1.0);
        assert_eq!(scale_top(&[30.0], Some(100.0)), 100.0);
    }
}
