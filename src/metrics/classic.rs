//! The classic Prometheus text format (0.0.4), for scrapers that do not ask for OpenMetrics.
//!
//! `prometheus-client` writes only OpenMetrics, whose text differs from the classic format in
//! three ways that matter here: a counter family is named without its `_total` suffix in its
//! `# HELP` and `# TYPE` lines (the classic format names the sample, `…_total`), there are
//! `# UNIT` lines, and the text ends with `# EOF`. Everything else (samples, labels,
//! histograms, escaping) reads the same in both.

/// `openmetrics` (as `prometheus-client` writes it) in the classic text format.
pub fn from_openmetrics(openmetrics: &str) -> String {
    let mut out = String::with_capacity(openmetrics.len());
    // A family's HELP line comes before its TYPE, which says whether it is a counter.
    let mut help: Option<&str> = None;
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        if line.starts_with("# HELP ") {
            if let Some(previous) = help.replace(line) {
                push(&mut out, previous);
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or((rest, ""));
            let counter = kind == "counter" && !name.ends_with("_total");
            if let Some(help) = help.take() {
                match help["# HELP ".len()..].split_once(' ') {
                    Some((_, text)) if counter => {
                        push(&mut out, &format!("# HELP {name}_total {text}"))
                    }
                    _ => push(&mut out, help),
                }
            }
            match counter {
                true => push(&mut out, &format!("# TYPE {name}_total counter")),
                false => push(&mut out, line),
            }
            continue;
        }
        if let Some(help) = help.take() {
            push(&mut out, help);
        }
        push(&mut out, line);
    }
    out
}

fn push(out: &mut String, line: &str) {
    out.push_str(line);
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::from_openmetrics;

    #[test]
    fn counters_are_named_by_their_samples_and_the_openmetrics_lines_go() {
        let openmetrics = "# HELP app_requests Requests.\n# TYPE app_requests counter\n\
                           app_requests_total{transport=\"sse\"} 3\n\
                           # HELP app_open Open now.\n# TYPE app_open gauge\n# UNIT app_open x\n\
                           app_open 1\n# EOF\n";
        assert_eq!(
            from_openmetrics(openmetrics),
            "# HELP app_requests_total Requests.\n# TYPE app_requests_total counter\n\
             app_requests_total{transport=\"sse\"} 3\n\
             # HELP app_open Open now.\n# TYPE app_open gauge\napp_open 1\n"
        );
    }
}
