//! The experiment's results as a Markdown table (`--format markdown`) or one JSON array
//! (`--format json`, and the `result` event of `GET /api/experiments/<id>`).

use super::{Options, Server, TechniqueResult};

/// A caption line and one table row per technique.
pub fn markdown(options: &Options, results: &[TechniqueResult]) -> String {
    let server = match &options.server {
        Server::Spawn(_) => "a child server on 127.0.0.1".to_owned(),
        Server::Url { url, .. } => url.clone(),
    };
    let mut out = format!(
        "{} clients per technique, {} s interval, pattern `{}`, {} s of events per technique, against {server}.\n\n",
        options.clients,
        options.interval.as_secs_f64(),
        options.pattern,
        options.seconds,
    );
    out += "| technique | requests | empty answers | bytes down | bytes up | events | lost | duplicates | connections | p50 ms | p95 ms | p99 ms | server CPU ms |\n";
    out += "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    for r in results {
        let share = if r.requests == 0 {
            0.0
        } else {
            r.empty_answers as f64 * 100.0 / r.requests as f64
        };
        let ms = |v: Option<f64>| v.map_or_else(|| "–".to_owned(), |v| format!("{v:.1}"));
        out += &format!(
            "| {} | {} | {} ({share:.0} %) | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            r.technique,
            grouped(r.requests),
            grouped(r.empty_answers),
            grouped(r.bytes_down),
            grouped(r.bytes_up),
            grouped(r.events),
            r.lost,
            r.duplicates,
            grouped(r.connections),
            ms(r.latency_ms.p50),
            ms(r.latency_ms.p95),
            ms(r.latency_ms.p99),
            r.server_cpu_ms.map_or_else(|| "–".to_owned(), grouped),
        );
    }
    out
}

/// The results as one JSON array with an object per technique: what `--format json` prints
/// and what an experiment started from the web ends with.
pub fn json(results: &[TechniqueResult]) -> Result<String, String> {
    serde_json::to_string_pretty(results).map_err(|e| format!("the results as JSON: {e}"))
}

/// `1234567` as `1,234,567`.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(1234567), "1,234,567");
    }
}
