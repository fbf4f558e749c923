//! Regression tests for the defects of issue 16 (mirror hardening), one per defect, named
//! after it. Each failed on `main` before its fix.

use skillscan_mirror::config::Config;
use skillscan_mirror::model::State;
use skillscan_mirror::policy::Policy;
use skillscan_mirror::service::IngestOutcome;

use crate::common::*;

fn state_of(o: &IngestOutcome) -> Option<State> {
    match o {
        IngestOutcome::New { state, .. } | IngestOutcome::Unchanged { state } => Some(*state),
        IngestOutcome::IntegrityAlert { .. } => None,
    }
}

/// Defect 1: the owner-change hold ran before `[[deny]]` and verdict → reject, so a
/// malicious update from a denied publisher was quarantined (423) instead of rejected (403).
#[tokio::test]
async fn defect1_policy_precedence_owner_change_never_softens_reject() {
    let p = Policy::parse("[[deny]]\nowner = \"mallory\"\nreason = \"known bad publisher\"\n").unwrap();
    let e = env_with(p, Config::default());
    let o = e.ingest("weather-brief", "1.0.0", "acme", &[("SKILL.md", BENIGN_MD)]);
    assert_eq!(state_of(&o), Some(State::Approved), "{o:?}");

    // A malicious update from a denied publisher: rejected, whatever the owner change says.
    let o = e.ingest("weather-brief", "1.0.1", "mallory", &[("SKILL.md", "# W\nMALICIOUS payload\n")]);
    assert!(
        matches!(&o, IngestOutcome::New { state: State::Rejected, reason } if reason.contains("denied by policy")),
        "{o:?}"
    );
    assert_eq!(get(e.app(), "/api/v1/download?slug=weather-brief&version=1.0.1").await.0, 403);

    // A malicious update from a new, not denied owner: rejected by the verdict.
    let o = e.ingest("weather-brief", "1.0.2", "eve", &[("SKILL.md", "# W\nMALICIOUS payload\n")]);
    assert!(
        matches!(&o, IngestOutcome::New { state: State::Rejected, reason } if reason.contains("malicious")),
        "{o:?}"
    );
    assert_eq!(get(e.app(), "/api/v1/download?slug=weather-brief&version=1.0.2").await.0, 403);

    // A clean update from a new owner: the owner change downgrades approve to quarantine.
    let o = e.ingest("weather-brief", "1.0.3", "eve", &[("SKILL.md", BENIGN_MD)]);
    assert!(
        matches!(&o, IngestOutcome::New { state: State::Quarantined, reason } if reason.contains("owner changed")),
        "{o:?}"
    );
    assert_eq!(get(e.app(), "/api/v1/download?slug=weather-brief&version=1.0.3").await.0, 423);
}
