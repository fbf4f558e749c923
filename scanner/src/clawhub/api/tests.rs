use serde_json::json;

use super::*;

fn s(text: &str) -> Option<String> {
    Some(text.to_owned())
}

/// Every field set, so that every key is written.
fn detail() -> SkillDetailResponse {
    SkillDetailResponse {
        latest_version: Some(latest()),
        metadata: Some(json!({"setup": [{"key": "TODOIST_API_KEY", "required": true}], "os": ["macos"]})),
        moderation: Some(Moderation {
            engine_version: s("rules-1"),
            is_malware_blocked: true,
            is_suspicious: true,
            reason_codes: vec!["malicious.crypto_mining".into()],
            summary: s("drains wallets"),
            updated_at: Some(2),
            verdict: s("malicious"),
        }),
        owner: Some(Owner { display_name: s("Acme"), handle: s("acme"), image: s("i"), user_id: s("users:1") }),
        skill: Some(Skill {
            created_at: 1,
            description: s("d"),
            display_name: s("Weather Brief"),
            icon: s("i"),
            slug: s("weather-brief"),
            stats: Stats { comments: 1, downloads: 2, stars: 3, versions: 4 },
            summary: s("s"),
            tags: [("latest".to_owned(), "1.0.0".to_owned())].into(),
            topics: vec!["Productivity".into()],
            updated_at: 2,
        }),
    }
}

fn latest() -> LatestVersion {
    LatestVersion { changelog: "c".into(), created_at: 1, license: s("MIT-0"), version: "1.0.0".into() }
}

fn list_item() -> SkillListItem {
    SkillListItem {
        created_at: 1,
        description: s("d"),
        display_name: s("n"),
        icon: s("i"),
        latest_version: Some(latest()),
        metadata: Some(json!({"setup": []})),
        owner_handle: s("acme"),
        slug: "a".into(),
        stats: Stats::default(),
        summary: s("s"),
        tags: Tags::new(),
        topics: vec![],
        updated_at: 2,
    }
}

fn verdict_security() -> VerdictSecurity {
    VerdictSecurity {
        passed: true,
        signals: VerdictSignals {
            dependency_registry: s("x"),
            skill_spector: s("x"),
            static_scan: s("clean"),
            virus_total: s("x"),
        },
        status: "clean".into(),
    }
}

/// The answers in their written order, each with every key present.
fn samples() -> Vec<(&'static str, String)> {
    let w = |v: &dyn erased::Json| v.json();
    vec![
        (
            "well-known",
            w(&WellKnownResponse {
                api_base: s("a"),
                auth_base: s("b"),
                min_cli_version: s("0.1.0"),
                registry: s("a"),
            }),
        ),
        (
            "search",
            w(&SearchResponse {
                results: vec![SearchResult {
                    display_name: s("n"),
                    downloads: Some(1),
                    icon: s("i"),
                    owner: Some(SearchOwner { display_name: s("A"), handle: s("a"), image: s("i") }),
                    owner_handle: s("a"),
                    score: 0.5,
                    slug: s("a"),
                    summary: s("s"),
                    updated_at: Some(1),
                    version: s("1.0.0"),
                }],
            }),
        ),
        ("list", w(&SkillListResponse { items: vec![list_item()], next_cursor: s("25") })),
        ("detail", w(&detail())),
        ("moderation", w(&ModerationResponse { moderation: detail().moderation.unwrap_or_default() })),
        (
            "versions",
            w(&VersionListResponse {
                items: vec![VersionListItem {
                    changelog: "c".into(),
                    changelog_source: s("user"),
                    created_at: Some(1),
                    version: "1.0.0".into(),
                }],
                next_cursor: None,
            }),
        ),
        (
            "version",
            w(&VersionDetailResponse {
                skill: Some(VersionSkill { display_name: s("n"), slug: s("a") }),
                version: Some(VersionDetail {
                    changelog: "c".into(),
                    changelog_source: s("user"),
                    created_at: Some(1),
                    files: vec![VersionFile {
                        content_type: "text/markdown".into(),
                        path: "SKILL.md".into(),
                        sha256: "ab".into(),
                        size: 1,
                    }],
                    license: None,
                    version: "1.0.0".into(),
                }),
            }),
        ),
        (
            "install",
            w(&InstallResponse {
                archive: InstallArchive { download_url: "/d".into(), version: "1.0.0".into() },
                install_kind: "archive".into(),
                ok: true,
                slug: "a".into(),
            }),
        ),
        (
            "install refusal",
            w(&InstallRefusal {
                message: "m".into(),
                ok: false,
                reason: "github_scan_failed".into(),
                slug: "a".into(),
                status: 403,
            }),
        ),
        (
            "resolve",
            w(&ResolveResponse {
                latest_version: Some(VersionRef { version: "1.0.1".into() }),
                matched: Some(VersionRef { version: "1.0.0".into() }),
                slug: s("a"),
            }),
        ),
        ("ack", w(&Ack { ok: true })),
        (
            "verify pass",
            w(&VerifyPass {
                artifact: VerifyArtifact {
                    sha256: "ab".into(),
                    signature_url: "/s".into(),
                    size: 1,
                    tree_digest: "cd".into(),
                },
                card: Some(json!({"x": 1})),
                created_at: 1,
                decision: "pass".into(),
                display_name: "n".into(),
                ok: true,
                page_url: s("p"),
                provenance: VerifyProvenance { approved_at: 2, mirror: "skillscan-mirror".into() },
                publisher_handle: s("acme"),
                reasons: vec![],
                resolved_from: "latest".into(),
                schema: VERIFY_SCHEMA.into(),
                security: VerifySecurity { passed: true, rules_version: s("r"), status: "clean".into() },
                signature: VerifySignature { format: "minisign".into(), present: true, public_key_url: "/k".into() },
                slug: "a".into(),
                tag: s("latest"),
                version: "1.0.0".into(),
            }),
        ),
        (
            "verify fail",
            w(&VerifyFail {
                decision: "fail".into(),
                ok: false,
                reasons: vec!["r".into()],
                schema: VERIFY_SCHEMA.into(),
                security: SecurityStatus { passed: false, status: "malicious".into() },
                slug: "a".into(),
                version: s("1.0.0"),
            }),
        ),
        (
            "security verdicts",
            w(&SecurityVerdictsResponse {
                items: vec![
                    SecurityVerdict::Pass(SecurityVerdictPass {
                        decision: "pass".into(),
                        ok: true,
                        publisher_handle: s("acme"),
                        reasons: vec![],
                        requested_slug: "a".into(),
                        requested_version: s("1.0.0"),
                        security: verdict_security(),
                        security_audit_url: s("u"),
                        skill_url: s("u"),
                        slug: "a".into(),
                        version: "1.0.0".into(),
                    }),
                    SecurityVerdict::Fail(SecurityVerdictFail {
                        decision: "fail".into(),
                        error: VerdictError { code: "blocked".into(), message: "m".into() },
                        ok: false,
                        reasons: vec!["m".into()],
                        requested_slug: "a".into(),
                        requested_version: None,
                        security: Some(verdict_security()),
                    }),
                ],
                schema: SECURITY_VERDICTS_SCHEMA.into(),
            }),
        ),
        (
            "security verdicts request",
            w(&SecurityVerdictsRequest {
                items: vec![SecurityVerdictQuery { owner_handle: s("acme"), slug: "a".into(), version: s("1.0.0") }],
            }),
        ),
        (
            "archive meta",
            w(&ArchiveMeta { owner_id: s("users:acme"), published_at: 1, slug: "a".into(), version: "1.0.0".into() }),
        ),
        (
            "index",
            w(&IndexResponse {
                count: 1,
                schema: INDEX_SCHEMA.into(),
                versions: vec![IndexEntry {
                    approved_at: Some(1),
                    archive_sha256: "ab".into(),
                    owner: s("acme"),
                    slug: "a".into(),
                    tree_digest: "cd".into(),
                    version: "1.0.0".into(),
                }],
            }),
        ),
    ]
}

/// Serialisation through a trait object, so the samples can be listed together.
mod erased {
    pub trait Json {
        fn json(&self) -> String;
    }
    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> String {
            serde_json::to_string(self).unwrap_or_default()
        }
    }
}

#[test]
fn every_type_writes_its_keys_in_byte_order() {
    for (name, written) in samples() {
        let value: Value = serde_json::from_str(&written).unwrap_or_default();
        let sorted = serde_json::to_string(&SortedKeys(&value)).unwrap_or_default();
        assert_eq!(written, sorted, "{name}: declare the fields in the byte order of their JSON names");
    }
}

#[test]
fn every_type_reads_what_it_writes() {
    fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: T) {
        let bytes = serde_json::to_vec(&value).unwrap_or_default();
        assert_eq!(from_slice::<T>(&bytes), Ok(value));
    }
    round_trip(detail());
    round_trip(list_item());
    round_trip(SkillDetailResponse {
        latest_version: None,
        metadata: None,
        moderation: None,
        owner: None,
        skill: None,
    });
    round_trip(ResolveResponse { latest_version: None, matched: None, slug: None });
    round_trip(SecurityVerdict::Fail(SecurityVerdictFail::default()));
}

#[test]
fn the_minimal_answers_the_cli_accepts_decode() {
    // clawhub-cli-trace.md §2, as written there.
    let detail: SkillDetailResponse = from_slice(
        br#"{"skill":{"slug":"weather-brief","displayName":"Weather Brief","tags":{"latest":"1.0.0"},"stats":{},
             "createdAt":1767225600000,"updatedAt":1767225600000},
             "latestVersion":{"version":"1.0.0","createdAt":1767225600000,"changelog":"Initial release."},
             "owner":{"handle":"acme"}}"#,
    )
    .unwrap_or_default();
    assert_eq!(detail.skill.and_then(|s| s.slug).as_deref(), Some("weather-brief"));
    assert_eq!(detail.latest_version.map(|l| l.version).as_deref(), Some("1.0.0"));
    assert_eq!(detail.owner.and_then(|o| o.handle).as_deref(), Some("acme"));
    assert_eq!(detail.moderation, None);

    let version: Result<VersionDetailResponse, _> = from_slice(
        br#"{"skill":{"slug":"weather-brief","displayName":"Weather Brief"},
             "version":{"version":"1.0.0","createdAt":1767225600000,"changelog":"Initial release."}}"#,
    );
    assert_eq!(version.map(|v| v.version.map(|v| v.files.len())), Ok(Some(0)));
    let resolve: Result<ResolveResponse, _> = from_slice(br#"{"match":null,"latestVersion":{"version":"1.0.1"}}"#);
    assert_eq!(resolve.map(|r| r.latest_version.map(|l| l.version)), Ok(s("1.0.1")));
    let list: Result<VersionListResponse, _> =
        from_slice(br#"{"items":[{"version":"1.0.0","createdAt":1767225600000,"changelog":"Initial release."}],"nextCursor":null}"#);
    assert_eq!(list.map(|l| l.items.len()), Ok(1));
    let search: Result<SearchResponse, _> =
        from_slice(br#"{"results":[{"score":0.9,"slug":"weather-brief","version":"1.0.0"}]}"#);
    assert_eq!(search.map(|s| s.results[0].score), Ok(0.9));
}

#[test]
fn unknown_keys_are_ignored_and_unread_keys_are_lenient() {
    let detail: Result<SkillDetailResponse, _> = from_slice(
        br#"{"skill":{"slug":"a","tags":null,"stats":"many","badges":{"x":1}},"latestVersion":null,"owner":null,
             "metadata":{},"extra":[1,2,3]}"#,
    );
    let detail = detail.unwrap_or_default();
    let skill = detail.skill.unwrap_or_default();
    assert_eq!((skill.slug.as_deref(), skill.tags.len(), skill.stats.versions), (Some("a"), 0, 0));
    // `{}` is relayed but is not valid metadata.
    assert!(detail.metadata.is_some_and(|m| !valid_metadata(&m)));
    assert!(valid_metadata(&json!({"setup": []})));
}

#[test]
fn missing_required_and_mistyped_keys_are_errors_that_name_the_key() {
    let err = |body: &str| from_slice::<SkillDetailResponse>(body.as_bytes()).err().map(|e| e.to_string());
    let complete = r#""skill":null,"latestVersion":null,"owner":null"#;
    assert_eq!(err(&format!("{{{complete}}}")), None);
    let missing = err(r#"{"latestVersion":null,"owner":null}"#).unwrap_or_default();
    assert!(missing.contains("missing field `skill`"), "{missing}");
    let mistyped = err(r#"{"skill":{"slug":3},"latestVersion":null,"owner":null}"#).unwrap_or_default();
    assert!(mistyped.starts_with("at `skill.slug`: invalid type: integer `3`"), "{mistyped}");
    let mistyped = err(r#"{"skill":null,"latestVersion":{"version":3},"owner":null}"#).unwrap_or_default();
    assert!(mistyped.starts_with("at `latestVersion.version`"), "{mistyped}");
    let mistyped = err(&format!(r#"{{{complete},"moderation":{{"isMalwareBlocked":"yes"}}}}"#)).unwrap_or_default();
    assert!(mistyped.starts_with("at `moderation.isMalwareBlocked`"), "{mistyped}");
    for body in ["", "nope", "[]", r#"{"skill":"#, &format!("{{{complete}}} trailing")] {
        assert!(err(body).is_some(), "{body}");
    }
    let list = from_slice::<VersionListResponse>(br#"{"items":[{"createdAt":1}]}"#).err().map(|e| e.to_string());
    assert_eq!(list.as_deref(), Some("at `items[0]`: missing field `version` at line 1 column 25"));
}

#[test]
fn sorted_keys_sorts_every_level() {
    #[derive(Serialize)]
    struct Unsorted {
        zeta: u8,
        alpha: Vec<Inner>,
    }
    #[derive(Serialize)]
    struct Inner {
        y: Option<u8>,
        b: f64,
    }
    let value = Unsorted { zeta: 1, alpha: vec![Inner { y: None, b: 1.0 }] };
    assert_eq!(
        serde_json::to_string(&SortedKeys(&value)).unwrap_or_default(),
        r#"{"alpha":[{"b":1.0,"y":null}],"zeta":1}"#
    );
    let pretty = serde_json::to_string_pretty(&SortedKeys(json!({"b": 1, "a": [true]}))).unwrap_or_default();
    assert_eq!(pretty, "{\n  \"a\": [\n    true\n  ],\n  \"b\": 1\n}");
}
