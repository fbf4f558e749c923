use skillscan_signatures::digest::Sha256Digest;

use super::*;
use crate::clawhub::client::Moderation;

fn request(text: &str) -> SkillRef {
    text.parse().unwrap_or_else(|e| panic!("{e}"))
}

fn detail(owner: &str, latest: Option<&str>) -> SkillDetail {
    SkillDetail {
        slug: Some("weather-brief".into()),
        latest_version: latest.map(str::to_owned),
        owner_handle: Some(owner.into()),
        moderation: None,
    }
}

fn pin(owner: Option<&str>, version: &str) -> LockedSkill {
    LockedSkill {
        slug: "weather-brief".into(),
        owner: owner.map(str::to_owned),
        version: version.into(),
        source: "https://mirror.example".into(),
        archive_sha256: None,
        tree_digest: Sha256Digest([0; 32]),
        clawhub_fingerprint: None,
        signing_key_id: None,
        verdict: "clean".into(),
        rules_version: "1".into(),
        pinned_at: 0,
        files: Default::default(),
    }
}

fn target(resolution: &Resolution) -> &Target {
    match &resolution.decision {
        Decision::Download(target) => target,
        Decision::Refuse(refusal) => panic!("refused: {refusal}"),
    }
}

fn refusal(resolution: &Resolution) -> &Refusal {
    match &resolution.decision {
        Decision::Refuse(refusal) => refusal,
        Decision::Download(target) => panic!("downloads {target:?}"),
    }
}

#[test]
fn the_latest_version_when_nothing_names_one() {
    let resolution = resolve(&request("weather-brief"), None, &detail("acme", Some("1.2.0")));
    let target = target(&resolution);
    assert_eq!((target.version.as_str(), target.version_from), ("1.2.0", VersionSource::Latest));
    assert_eq!(target.owner.as_deref(), Some("acme"));
    assert!(!target.precheck_version());
    assert!(resolution.notes.is_empty(), "{:?}", resolution.notes);
}

#[test]
fn a_requested_version_wins_and_is_checked_first() {
    let pinned = pin(Some("acme"), "1.0.0");
    let resolution = resolve(&request("weather-brief@1.1.0"), Some(&pinned), &detail("acme", Some("1.2.0")));
    let target = target(&resolution);
    assert_eq!((target.version.as_str(), target.version_from), ("1.1.0", VersionSource::Requested));
    assert!(target.precheck_version());
    assert!(resolution.notes.is_empty(), "{:?}", resolution.notes);
}

#[test]
fn without_a_version_the_pinned_one_is_installed_with_a_note() {
    let pinned = pin(Some("acme"), "1.0.0");
    let resolution = resolve(&request("weather-brief"), Some(&pinned), &detail("acme", Some("1.2.0")));
    let target = target(&resolution);
    assert_eq!((target.version.as_str(), target.version_from), ("1.0.0", VersionSource::Pinned));
    assert_eq!(resolution.notes, ["installing weather-brief 1.0.0, the version skills.lock pins"]);
}

#[test]
fn a_skill_the_registry_blocks_is_a_policy_refusal() {
    let mut answer = detail("mallory", Some("1.0.0"));
    answer.moderation = Some(Moderation {
        is_malware_blocked: true,
        is_suspicious: true,
        verdict: Some("malicious".into()),
        reason_codes: vec!["exfil".into(), "dropper".into()],
        summary: Some("sends keys home".into()),
    });
    let resolution = resolve(&request("weather-brief"), None, &answer);
    let refusal = refusal(&resolution);
    assert_eq!(refusal.kind(), RefusalKind::Policy);
    assert_eq!(refusal.to_string(), "the registry blocks weather-brief as malicious: sends keys home (exfil, dropper)");
    // Blocked outranks suspicious: no note about scanning it anyway.
    assert!(resolution.notes.is_empty(), "{:?}", resolution.notes);

    answer.moderation = Some(Moderation { is_malware_blocked: true, ..Moderation::default() });
    let resolution = resolve(&request("weather-brief"), None, &answer);
    assert_eq!(refusal_text(&resolution), "the registry blocks weather-brief as malware");
}

fn refusal_text(resolution: &Resolution) -> String {
    refusal(resolution).to_string()
}

#[test]
fn a_suspicious_skill_is_scanned_with_a_note() {
    let mut answer = detail("acme", Some("1.0.0"));
    answer.moderation = Some(Moderation { is_suspicious: true, ..Moderation::default() });
    let resolution = resolve(&request("weather-brief"), None, &answer);
    assert_eq!(target(&resolution).version, "1.0.0");
    assert_eq!(resolution.notes, ["the registry flags weather-brief as suspicious; scanning it anyway"]);
}

#[test]
fn an_alias_is_not_followed() {
    let mut answer = detail("acme", Some("1.0.0"));
    answer.slug = Some("weather-brief-pro\n".into());
    let resolution = resolve(&request("weather-brief"), None, &answer);
    let refusal = refusal(&resolution);
    assert_eq!(refusal.kind(), RefusalKind::Error);
    assert_eq!(
        refusal.to_string(),
        "the registry answers \"weather-brief\" with skill \"weather-brief-pro\\n\" (an alias?); install \
         \"weather-brief-pro\\n\" explicitly if that is the skill you mean"
    );
}

#[test]
fn another_owner_than_the_one_asked_for_is_an_error() {
    let resolution = resolve(&request("@acme/weather-brief"), None, &detail("mallory", Some("1.0.0")));
    let refusal = refusal(&resolution);
    assert_eq!(refusal.kind(), RefusalKind::Error);
    assert_eq!(refusal.to_string(), "the registry says weather-brief is owned by \"mallory\", not \"acme\"");
    // The owner asked for and answered: downloads ask for it.
    let resolution = resolve(&request("@acme/weather-brief"), None, &detail("acme", Some("1.0.0")));
    assert_eq!(target(&resolution).owner.as_deref(), Some("acme"));
}

#[test]
fn a_pinned_owner_that_changed_is_an_integrity_refusal() {
    let pinned = pin(Some("acme"), "1.0.0");
    for asked in ["weather-brief", "weather-brief@1.0.0", "weather-brief@2.0.0"] {
        let resolution = resolve(&request(asked), Some(&pinned), &detail("mallory", Some("2.0.0")));
        let refusal = refusal(&resolution);
        assert_eq!(refusal.kind(), RefusalKind::Integrity, "{asked}");
        assert_eq!(
            refusal.to_string(),
            "skills.lock pins weather-brief as published by \"acme\", but the registry now says \"mallory\" owns it"
        );
    }
    // A pin without an owner, or a registry that names none, has nothing to compare.
    let anonymous = pin(None, "1.0.0");
    assert_eq!(
        target(&resolve(&request("weather-brief"), Some(&anonymous), &detail("mallory", None))).version,
        "1.0.0"
    );
    let mut no_owner = detail("x", None);
    no_owner.owner_handle = None;
    let resolution = resolve(&request("weather-brief"), Some(&pinned), &no_owner);
    assert_eq!(target(&resolution).owner, None);
}

#[test]
fn no_version_anywhere_or_an_invalid_one_is_an_error() {
    let resolution = resolve(&request("weather-brief"), None, &detail("acme", None));
    assert_eq!(refusal(&resolution).kind(), RefusalKind::Error);
    assert_eq!(
        refusal_text(&resolution),
        "weather-brief has no hosted version on this registry (GitHub-backed skills are not supported)"
    );
    let resolution = resolve(&request("weather-brief"), None, &detail("acme", Some("../1")));
    assert_eq!(refusal(&resolution).kind(), RefusalKind::Error);
    assert_eq!(refusal_text(&resolution), "the registry names version \"../1\", which is not a valid version");
}

#[test]
fn the_checks_run_in_order() {
    // Blocked and an alias: the block decides. An alias and a changed owner: the alias does.
    let pinned = pin(Some("acme"), "1.0.0");
    let mut answer = detail("mallory", None);
    answer.slug = Some("other".into());
    answer.moderation = Some(Moderation { is_malware_blocked: true, ..Moderation::default() });
    assert_eq!(refusal(&resolve(&request("weather-brief"), Some(&pinned), &answer)).kind(), RefusalKind::Policy);
    answer.moderation = None;
    assert!(matches!(refusal(&resolve(&request("weather-brief"), Some(&pinned), &answer)), Refusal::Alias { .. }));
    answer.slug = None;
    assert!(matches!(
        refusal(&resolve(&request("weather-brief"), Some(&pinned), &answer)),
        Refusal::OwnerChanged { .. }
    ));
}
