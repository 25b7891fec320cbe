//! What a doctor's page reports: one verdict per transport, and the counters that add them
//! up for the operator (`reverse_ajax_doctor_verdicts_total{transport,verdict}`).

use std::collections::BTreeMap;
use std::str::FromStr;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use serde::Deserialize;

use crate::wire::Technique;

/// How one transport fared on the visitor's network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// It opened and carried every event in good time.
    Ok,
    /// It could not open, or the upgrade was refused.
    Blocked,
    /// The answer was held back: frames came late and in clumps, or not before it ended.
    Buffered,
    /// Something in between closed it before the server did.
    Cut,
    /// It works, but events took far longer than the round trip.
    Slow,
    /// The browser lacks it.
    Unsupported,
}

impl Verdict {
    pub const ALL: [Verdict; 6] = [
        Verdict::Ok,
        Verdict::Blocked,
        Verdict::Buffered,
        Verdict::Cut,
        Verdict::Slow,
        Verdict::Unsupported,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Blocked => "blocked",
            Verdict::Buffered => "buffered",
            Verdict::Cut => "cut",
            Verdict::Slow => "slow",
            Verdict::Unsupported => "unsupported",
        }
    }
}

impl FromStr for Verdict {
    type Err = String;

    fn from_str(name: &str) -> Result<Verdict, String> {
        Verdict::ALL
            .into_iter()
            .find(|v| v.name() == name)
            .ok_or_else(|| {
                let all: Vec<&str> = Verdict::ALL.iter().map(|v| v.name()).collect();
                format!("unknown verdict {name:?} (one of: {})", all.join(", "))
            })
    }
}

/// The body of `POST /api/doctor/reports`: `{"verdicts":{"<transport>":"<verdict>",…}}`,
/// nothing else. Only these two closed vocabularies are kept, so no free text is stored.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    verdicts: BTreeMap<String, String>,
}

/// A report's verdicts, checked: at least one, each transport known and named once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report(pub Vec<(Technique, Verdict)>);

impl Report {
    /// Parses and checks a report body; the error is one line naming what is wrong.
    pub fn parse(text: &str) -> Result<Report, String> {
        let body: Body = serde_json::from_str(text)
            .map_err(|e| format!("the body is not a doctor's report: {e}"))?;
        if body.verdicts.is_empty() {
            return Err("`verdicts` names no transport".to_owned());
        }
        body.verdicts
            .iter()
            .map(|(transport, verdict)| Ok((transport.parse()?, verdict.parse()?)))
            .collect::<Result<Vec<_>, String>>()
            .map(Report)
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VerdictLabel {
    transport: String,
    verdict: String,
}

/// The verdict counters, one per transport and verdict, all made at start so each shows
/// from the first scrape. Clones share them.
#[derive(Debug, Clone, Default)]
pub struct Verdicts(Family<VerdictLabel, Counter>);

impl Verdicts {
    /// Makes the counters and registers them as `doctor_verdicts` in `registry`.
    pub fn register(registry: &mut Registry) -> Verdicts {
        let verdicts = Verdicts::default();
        for transport in Technique::ALL {
            for verdict in Verdict::ALL {
                verdicts.counter(transport, verdict);
            }
        }
        registry.register(
            "doctor_verdicts",
            "Verdicts that visitors' doctor pages reported with their consent, by transport",
            verdicts.0.clone(),
        );
        verdicts
    }

    fn counter(&self, transport: Technique, verdict: Verdict) -> Counter {
        let label = VerdictLabel {
            transport: transport.slug().to_owned(),
            verdict: verdict.name().to_owned(),
        };
        self.0.get_or_create(&label).clone()
    }

    /// Counts each verdict of `report` once.
    pub fn count(&self, report: &Report) {
        for &(transport, verdict) in &report.0 {
            self.counter(transport, verdict).inc();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_is_known_transports_with_known_verdicts_and_nothing_else() {
        let report = Report::parse(r#"{"verdicts":{"websocket":"blocked","polling":"ok"}}"#);
        assert_eq!(
            report,
            Ok(Report(vec![
                (Technique::Polling, Verdict::Ok),
                (Technique::WebSocket, Verdict::Blocked),
            ]))
        );
        for bad in [
            r#"{"verdicts":{}}"#,
            r#"{"verdicts":{"carrier-pigeon":"ok"}}"#,
            r#"{"verdicts":{"polling":"fine, thanks"}}"#,
            r#"{"verdicts":{"polling":"ok"},"note":"free text"}"#,
            r#"{"verdicts":{"polling":1}}"#,
            "[]",
            "",
        ] {
            assert!(Report::parse(bad).is_err(), "{bad}");
        }
    }
}
