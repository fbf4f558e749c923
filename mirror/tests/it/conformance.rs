//! The storage contract: what every metadata backend must do, checked the same way on each.
//!
//! Each check takes a [`Database`], which hands out independent handles (connections) on one
//! database, so multi-writer checks are real: two handles are what two replicas, or the server
//! and a CLI command, are. The `backend!` macro instantiates every check as its own test per
//! backend; a new backend adds one line at the bottom.

use std::sync::{Arc, Barrier};

use skillscan_mirror::model::{IntegrityAlert, State, SyncFailure, now_ms};
use skillscan_mirror::store::{Inserted, MetaStore, NewVersion, StoreError, Transition};
use skillscan_mirror::vetting::Verdict;
use skillscan_mirror::vetting::doubles::outcome;

/// One database a backend can open several handles on.
pub trait Database {
    /// A new, independent handle (its own connection) on the same database.
    fn handle(&self) -> Arc<dyn MetaStore>;
    /// Another, empty database of the same backend.
    fn fresh(&self) -> Box<dyn Database>;
}

/// A write through some handle, for checks that try several.
type Change<'a> = Box<dyn Fn(&dyn MetaStore) + 'a>;

/// A webhook as the service queues it: (target reference, event, payload).
type Hook = (String, String, String);

fn new_version(slug: &str, version: &str, sha_digit: char) -> NewVersion {
    NewVersion {
        slug: slug.into(),
        version: version.into(),
        owner: Some("acme".into()),
        display_name: format!("{slug} display"),
        summary: Some("a summary with 'quotes' and ünïcode".into()),
        changelog: "first".into(),
        published_at: 1_700_000_000_000,
        source: "test".into(),
        archive_sha256: sha_digit.to_string().repeat(64),
        archive_size: 4242,
        tree_digest: format!("sha256:{}", sha_digit.to_string().repeat(64)),
        fingerprint: "fp".into(),
        fingerprint_installed: "fpi".into(),
        files: vec![],
        metadata_json: Some(r#"{"k":"v"}"#.into()),
        license: Some("MIT".into()),
    }
}

fn insert(store: &dyn MetaStore, slug: &str, version: &str) -> i64 {
    match store.insert_version(&new_version(slug, version, 'a'), "test", "fetched").unwrap() {
        Inserted::New(id) => id,
        Inserted::Existing(r) => panic!("{slug}@{version} already existed: {r:?}"),
    }
}

fn step<'a>(id: i64, from: State, to: State, webhooks: Vec<Hook>) -> Transition<'a> {
    Transition {
        id,
        from,
        to,
        actor: "tester",
        action: "decide",
        reason: "conformance",
        scan: None,
        signature: None,
        webhooks,
    }
}

fn hook(target: &str, event: &str, payload: &str) -> Hook {
    (target.into(), event.into(), payload.into())
}

/// Insert a version and move it to `to` through the usual path.
fn at_state(store: &dyn MetaStore, slug: &str, to: State) -> i64 {
    let id = insert(store, slug, "1.0.0");
    let scan = outcome(Verdict::Clean, "rules-1");
    let mut t = step(id, State::Fetched, State::Scanned, vec![]);
    t.scan = Some(&scan);
    store.transition(&t).unwrap();
    if to != State::Scanned {
        store.transition(&step(id, State::Scanned, to, vec![])).unwrap();
    }
    id
}

pub fn a_version_reads_back_as_written(db: &dyn Database) {
    let s = db.handle();
    let id = insert(&*s, "weather", "1.0.0");
    let r = s.get_version("weather", "1.0.0").unwrap().expect("inserted version");
    let v = new_version("weather", "1.0.0", 'a');
    assert_eq!(r.id, id);
    assert_eq!((r.slug.as_str(), r.version.as_str()), ("weather", "1.0.0"));
    assert_eq!(r.owner, v.owner);
    assert_eq!(r.display_name, v.display_name);
    assert_eq!(r.summary, v.summary);
    assert_eq!(r.changelog, v.changelog);
    assert_eq!(r.published_at, v.published_at);
    assert_eq!(r.archive_sha256, v.archive_sha256);
    assert_eq!(r.archive_size, v.archive_size);
    assert_eq!(r.tree_digest, v.tree_digest);
    assert_eq!((r.fingerprint.as_str(), r.fingerprint_installed.as_str()), ("fp", "fpi"));
    assert_eq!(r.metadata_json, v.metadata_json);
    assert_eq!(r.license, v.license);
    assert_eq!(r.state, State::Fetched);
    assert_eq!(r.state_reason, "fetched");
    assert_eq!(r.verdict, None);
    assert_eq!(r.signature, None);
    assert!(r.fetched_at > 0 && r.decided_at.is_none());
    assert!(s.get_version("weather", "9.9.9").unwrap().is_none());
    assert!(s.get_version("nothing", "1.0.0").unwrap().is_none());
    let fetch: Vec<_> = s.audit(None).unwrap().into_iter().filter(|e| e.action == "fetch").collect();
    assert_eq!(fetch.len(), 1, "a new version is audited once");
    assert_eq!(fetch[0].to_state.as_deref(), Some("fetched"));
}

pub fn an_insert_of_a_pinned_version_reads_the_pin_back(db: &dyn Database) {
    let (a, b) = (db.handle(), db.handle());
    let id = insert(&*a, "weather", "1.0.0");
    // Different bytes under the same name, from another writer: the first pin wins, unchanged.
    match b.insert_version(&new_version("weather", "1.0.0", 'b'), "other", "again").unwrap() {
        Inserted::Existing(r) => {
            assert_eq!(r.id, id);
            assert_eq!(r.archive_sha256, "a".repeat(64), "the pin that won is handed back");
        }
        Inserted::New(_) => panic!("a pinned version was inserted twice"),
    }
    assert_eq!(a.versions_of("weather").unwrap().len(), 1);
    assert_eq!(a.get_version("weather", "1.0.0").unwrap().unwrap().archive_sha256, "a".repeat(64));
}

pub fn concurrent_inserts_of_one_version_pin_it_once(db: &dyn Database) {
    let writers = 6;
    let barrier = Arc::new(Barrier::new(writers));
    let handles: Vec<_> = (0..writers)
        .map(|i| {
            let (s, barrier) = (db.handle(), barrier.clone());
            std::thread::spawn(move || {
                let digit = char::from(b'a' + i as u8);
                barrier.wait();
                s.insert_version(&new_version("race", "1.0.0", digit), "w", "r").unwrap()
            })
        })
        .collect();
    let results: Vec<Inserted> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let new: Vec<i64> =
        results.iter().filter_map(|r| if let Inserted::New(id) = r { Some(*id) } else { None }).collect();
    assert_eq!(new.len(), 1, "exactly one writer pins the version");
    let pinned = db.handle().get_version("race", "1.0.0").unwrap().unwrap();
    for r in &results {
        if let Inserted::Existing(e) = r {
            assert_eq!(e.archive_sha256, pinned.archive_sha256, "losers are handed the winning pin");
        }
    }
}

pub fn versions_list_by_state_and_by_slug(db: &dyn Database) {
    let s = db.handle();
    at_state(&*s, "one", State::Approved);
    at_state(&*s, "two", State::Quarantined);
    insert(&*s, "one", "2.0.0");
    assert_eq!(s.versions(None).unwrap().len(), 3);
    let approved = s.versions(Some(State::Approved)).unwrap();
    assert_eq!(approved.iter().map(|v| v.slug.as_str()).collect::<Vec<_>>(), ["one"]);
    assert_eq!(s.versions(Some(State::Rejected)).unwrap().len(), 0);
    let mut of_one: Vec<_> = s.versions_of("one").unwrap().into_iter().map(|v| v.version).collect();
    of_one.sort();
    assert_eq!(of_one, ["1.0.0", "2.0.0"]);
    assert!(s.versions_of("missing").unwrap().is_empty());
}

pub fn a_transition_is_a_compare_and_set_with_its_audit_and_webhooks(db: &dyn Database) {
    let s = db.handle();
    let id = insert(&*s, "weather", "1.0.0");
    let scan = outcome(Verdict::Suspicious, "rules-7");
    let mut t = step(id, State::Fetched, State::Quarantined, vec![hook("hook-a", "quarantine", "{}")]);
    t.scan = Some(&scan);
    s.transition(&t).unwrap();
    let r = s.get_version("weather", "1.0.0").unwrap().unwrap();
    assert_eq!(r.state, State::Quarantined);
    assert_eq!(r.state_reason, "conformance");
    assert_eq!(r.verdict, Some(Verdict::Suspicious));
    assert_eq!(r.rules_version.as_deref(), Some("rules-7"));
    assert!(r.decided_at.is_none(), "quarantine is still pending");

    // The same move again: the state is no longer `Fetched`, so nothing is written.
    let audit_before = s.audit(None).unwrap().len();
    let queued_before = s.due_webhooks(i64::MAX, 100).unwrap().len();
    let err = s.transition(&step(id, State::Fetched, State::Approved, vec![hook("hook-a", "x", "{}")])).unwrap_err();
    assert!(matches!(err, StoreError::Conflict { expected: State::Fetched, .. }), "{err:?}");
    assert_eq!(s.get_version("weather", "1.0.0").unwrap().unwrap().state, State::Quarantined);
    assert_eq!(s.audit(None).unwrap().len(), audit_before, "a refused move leaves no audit row");
    assert_eq!(s.due_webhooks(i64::MAX, 100).unwrap().len(), queued_before, "nor a webhook");

    let mut approve = step(id, State::Quarantined, State::Approved, vec![]);
    approve.action = "approve";
    approve.signature = Some("untrusted comment: sig");
    s.transition(&approve).unwrap();
    let r = s.get_version("weather", "1.0.0").unwrap().unwrap();
    assert_eq!(r.state, State::Approved);
    assert_eq!(r.signature.as_deref(), Some("untrusted comment: sig"));
    assert!(r.decided_at.is_some());
    assert_eq!(r.verdict, Some(Verdict::Suspicious), "a move without a scan keeps the verdict");
    let last = s.audit(Some(1)).unwrap().pop().unwrap();
    assert_eq!((last.action.as_str(), last.actor.as_str()), ("approve", "tester"));
    assert_eq!((last.from_state.as_deref(), last.to_state.as_deref()), (Some("quarantined"), Some("approved")));
    assert_eq!(last.verdict.as_deref(), Some("suspicious"));
    assert_eq!(last.rules_version.as_deref(), Some("rules-7"));
    assert_eq!(s.approval_action("weather", "1.0.0").unwrap().as_deref(), Some("approve"));
    assert_eq!(s.signed_versions().unwrap(), 1);
    assert!(s.owner_has_approved("acme").unwrap());
    assert!(!s.owner_has_approved("someone-else").unwrap());

    let missing = s.transition(&step(id + 1000, State::Fetched, State::Scanned, vec![])).unwrap_err();
    assert!(matches!(missing, StoreError::NotFound(_)), "{missing:?}");
}

pub fn concurrent_deciders_from_two_handles_one_wins(db: &dyn Database) {
    let id = at_state(&*db.handle(), "contested", State::Quarantined);
    let deciders = 8;
    let barrier = Arc::new(Barrier::new(deciders));
    let threads: Vec<_> = (0..deciders)
        .map(|i| {
            let (s, barrier) = (db.handle(), barrier.clone());
            std::thread::spawn(move || {
                let to = if i % 2 == 0 { State::Approved } else { State::Rejected };
                let t = step(id, State::Quarantined, to, vec![hook("hook", "decision", &format!("{i}"))]);
                barrier.wait();
                s.transition(&t)
            })
        })
        .collect();
    let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let won = results.iter().filter(|r| r.is_ok()).count();
    for r in &results {
        if let Err(e) = r {
            assert!(matches!(e, StoreError::Conflict { .. }), "a losing decider gets a conflict, not {e:?}");
        }
    }
    assert_eq!(won, 1, "exactly one decider wins: {results:?}");
    let s = db.handle();
    let decisions =
        s.audit(None).unwrap().into_iter().filter(|e| e.from_state.as_deref() == Some("quarantined")).count();
    assert_eq!(decisions, 1, "only the winning decision is audited");
    assert_eq!(s.due_webhooks(i64::MAX, 100).unwrap().len(), 1, "only the winner's webhook is queued");
}

pub fn a_reader_never_sees_a_decision_without_its_audit_and_webhook(db: &dyn Database) {
    let writer = db.handle();
    let ids: Vec<i64> = (0..30).map(|i| at_state(&*writer, &format!("s{i}"), State::Quarantined)).collect();
    let reader = db.handle();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop = done.clone();
    let check = std::thread::spawn(move || {
        let mut looks = 0;
        while !stop.load(std::sync::atomic::Ordering::SeqCst) || looks == 0 {
            // Versions first, then audit and outbox: whatever decision the first read shows
            // committed, the later reads must show its audit row and webhook too.
            let approved = reader.versions(Some(State::Approved)).unwrap();
            let audit = reader.audit(None).unwrap();
            let queued = reader.due_webhooks(i64::MAX, 100).unwrap();
            for v in approved {
                assert!(
                    audit.iter().any(|e| e.slug == v.slug && e.to_state.as_deref() == Some("approved")),
                    "{} approved without its audit row",
                    v.slug
                );
                assert!(queued.iter().any(|q| q.payload == v.slug), "{} approved without its webhook", v.slug);
            }
            looks += 1;
        }
        looks
    });
    for (i, id) in ids.iter().enumerate() {
        writer
            .transition(&step(
                *id,
                State::Quarantined,
                State::Approved,
                vec![hook("hook", "approve", &format!("s{i}"))],
            ))
            .unwrap();
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(check.join().unwrap() > 0);
}

pub fn a_rescan_updates_the_verdict_and_is_audited(db: &dyn Database) {
    let s = db.handle();
    let id = at_state(&*s, "weather", State::Approved);
    s.update_scan(id, &outcome(Verdict::Malicious, "rules-2"), "schedule").unwrap();
    let r = s.get_version("weather", "1.0.0").unwrap().unwrap();
    assert_eq!((r.verdict, r.rules_version.as_deref()), (Some(Verdict::Malicious), Some("rules-2")));
    assert_eq!(r.state, State::Approved, "a rescan alone does not change state");
    let last = s.audit(Some(1)).unwrap().pop().unwrap();
    assert_eq!((last.action.as_str(), last.actor.as_str()), ("rescan", "schedule"));
    assert_eq!(last.rules_version.as_deref(), Some("rules-2"));
    let err = s.update_scan(id + 1000, &outcome(Verdict::Clean, "r"), "x").unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
}

pub fn resigning_replaces_signatures_with_one_audit_row_each(db: &dyn Database) {
    let s = db.handle();
    let a = at_state(&*s, "a", State::Approved);
    let b = at_state(&*s, "b", State::Approved);
    s.resign(&[(a, "sig-a2".into()), (b, "sig-b2".into())], "admin", "rotated").unwrap();
    assert_eq!(s.get_version("a", "1.0.0").unwrap().unwrap().signature.as_deref(), Some("sig-a2"));
    assert_eq!(s.get_version("b", "1.0.0").unwrap().unwrap().signature.as_deref(), Some("sig-b2"));
    let audit = s.audit(None).unwrap();
    assert_eq!(audit.iter().filter(|e| e.action == "re-sign").count(), 2);
    let rotate: Vec<_> = audit.iter().filter(|e| e.action == "key-rotate").collect();
    assert_eq!(rotate.len(), 1);
    assert_eq!((rotate[0].slug.as_str(), rotate[0].reason.as_str()), ("-", "rotated"));
    assert_eq!(s.signed_versions().unwrap(), 2);
}

pub fn the_audit_log_is_append_only_and_ordered(db: &dyn Database) {
    let s = db.handle();
    at_state(&*s, "a", State::Approved);
    let first = s.audit(None).unwrap();
    assert!(first.len() >= 3);
    assert!(first.windows(2).all(|w| w[0].id < w[1].id), "oldest first");
    at_state(&*db.handle(), "b", State::Rejected);
    let later = s.audit(None).unwrap();
    assert_eq!(&later[..first.len()], &first[..], "earlier events are never changed or dropped");
    let newest = s.audit(Some(2)).unwrap();
    assert_eq!(&newest[..], &later[later.len() - 2..], "a limit keeps the newest, still oldest first");
    assert!(s.audit(Some(0)).unwrap().is_empty());
}

pub fn incidents_are_recorded_once_and_audited(db: &dyn Database) {
    let s = db.handle();
    let alert = IntegrityAlert {
        id: 0,
        at: now_ms(),
        kind: "blob-corrupt".into(),
        slug: "weather".into(),
        version: "1.0.0".into(),
        pinned_sha256: "a".repeat(64),
        observed_sha256: "b".repeat(64),
        detail: "hash mismatch".into(),
    };
    let id = s.record_alert(&alert, "scrub", vec![hook("hook", "integrity_alert", "{1}")]).unwrap();
    let alerts = s.alerts().unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].id, id);
    assert_eq!((alerts[0].kind.as_str(), alerts[0].observed_sha256.as_str()), ("blob-corrupt", &*"b".repeat(64)));

    assert!(s.record_blob_fault(&alert, "serve", vec![hook("hook", "integrity_alert", "{2}")]).unwrap());
    assert!(!db.handle().record_blob_fault(&alert, "serve", vec![hook("hook", "integrity_alert", "{3}")]).unwrap());
    assert_eq!(s.alerts().unwrap().len(), 2, "a fault already open raises no second alert");
    let faults = s.blob_faults().unwrap();
    assert_eq!(faults.len(), 1);
    assert_eq!((faults[0].slug.as_str(), faults[0].archive_sha256.as_str()), ("weather", &*"a".repeat(64)));
    let payloads: Vec<_> = s.due_webhooks(i64::MAX, 100).unwrap().into_iter().map(|q| q.payload).collect();
    assert_eq!(payloads, ["{1}", "{2}"]);

    assert!(s.clear_blob_fault("weather", "1.0.0", "admin", "restored from backup").unwrap());
    assert!(!s.clear_blob_fault("weather", "1.0.0", "admin", "again").unwrap());
    assert!(s.blob_faults().unwrap().is_empty());
    assert!(s.audit(None).unwrap().iter().any(|e| e.action == "blob-restored" && e.reason == "restored from backup"));

    for i in 0..5 {
        let f = SyncFailure {
            id: 0,
            at: now_ms(),
            upstream: "https://upstream.invalid".into(),
            slug: format!("s{i}"),
            version: (i % 2 == 0).then(|| "1.0.0".to_string()),
            error: format!("error {i}"),
        };
        s.record_sync_failure(&f).unwrap();
    }
    let newest: Vec<_> = s.sync_failures(3).unwrap().into_iter().map(|f| f.slug).collect();
    assert_eq!(newest, ["s4", "s3", "s2"], "newest first, limited");
    assert_eq!(s.sync_failures(100).unwrap()[4].version.as_deref(), Some("1.0.0"));
}

pub fn tokens_are_kept_by_hash_and_revocable(db: &dyn Database) {
    let s = db.handle();
    let (h1, h2) = ("1".repeat(64), "2".repeat(64));
    let id = s.insert_token("ci", "read", &h1).unwrap();
    s.insert_token("ops", "admin", &h2).unwrap();
    let dup = s.insert_token("ci", "admin", &"3".repeat(64)).unwrap_err();
    assert!(matches!(dup, StoreError::AlreadyExists(_)), "{dup:?}");
    let found = db.handle().find_token(&h1).unwrap().expect("token by hash");
    assert_eq!((found.id, found.name.as_str(), found.role.as_str(), found.revoked), (id, "ci", "read", false));
    assert!(s.find_token(&"9".repeat(64)).unwrap().is_none());
    let mut live = s.tokens_with_hashes().unwrap();
    live.sort();
    assert_eq!(live, [(h1.clone(), "read".to_string()), (h2.clone(), "admin".to_string())]);
    assert!(s.revoke_token("ci").unwrap());
    assert!(!s.revoke_token("nobody").unwrap());
    assert_eq!(s.tokens_with_hashes().unwrap(), [(h2, "admin".to_string())]);
    assert!(s.find_token(&h1).unwrap().unwrap().revoked);
    assert_eq!(s.tokens().unwrap().len(), 2, "a revoked token stays listed");
}

pub fn the_outbox_delivers_at_least_once_with_stable_event_ids(db: &dyn Database) {
    let s = db.handle();
    let id = insert(&*s, "weather", "1.0.0");
    // One event to two webhooks: one event id, two deliveries.
    s.transition(&step(
        id,
        State::Fetched,
        State::Quarantined,
        vec![hook("hook-a", "quarantine", "{q}"), hook("hook-b", "quarantine", "{q}")],
    ))
    .unwrap();
    let due = s.due_webhooks(now_ms() + 1_000, 5).unwrap();
    assert_eq!(due.len(), 2);
    assert_eq!(due[0].event_id, due[1].event_id, "one event, one id");
    assert!(due[0].event_id.len() >= 16);
    assert_eq!((due[0].target.as_str(), due[1].target.as_str()), ("hook-a", "hook-b"));
    assert_eq!(due[0].attempts, 0);

    s.webhook_delivered(due[0].id, now_ms()).unwrap();
    let later = now_ms() + 60_000;
    s.webhook_failed(due[1].id, later, "503 from receiver").unwrap();
    assert!(s.due_webhooks(now_ms() + 1_000, 5).unwrap().is_empty(), "delivered, and the retry not yet due");
    let retry = s.due_webhooks(later, 5).unwrap();
    assert_eq!(retry.len(), 1);
    assert_eq!((retry[0].attempts, retry[0].event_id.as_str()), (1, due[1].event_id.as_str()), "same id on retry");
    assert!(s.due_webhooks(later, 1).unwrap().is_empty(), "no attempt past the maximum");
}

pub fn the_revision_moves_on_every_commit_from_any_writer_and_on_nothing_else(db: &dyn Database) {
    let (a, b) = (db.handle(), db.handle());
    let r0 = a.revision().unwrap();
    assert_eq!(b.revision().unwrap(), r0, "two handles on one database agree");
    let id = insert(&*a, "weather", "1.0.0");
    let r1 = a.revision().unwrap();
    assert!(r1 > r0, "the writer's own commit moves it");
    assert_eq!(b.revision().unwrap(), r1, "another handle sees the same revision");

    b.transition(&step(id, State::Fetched, State::Quarantined, vec![hook("h", "quarantine", "{}")])).unwrap();
    let r2 = a.revision().unwrap();
    assert!(r2 > r1, "another writer's commit moves it");

    // Reads, a refused compare-and-set and delivery bookkeeping move nothing.
    a.versions(None).unwrap();
    a.audit(None).unwrap();
    a.tokens().unwrap();
    assert!(a.transition(&step(id, State::Fetched, State::Approved, vec![])).is_err());
    assert!(matches!(
        a.insert_version(&new_version("weather", "1.0.0", 'c'), "t", "r").unwrap(),
        Inserted::Existing(_)
    ));
    let due = a.due_webhooks(i64::MAX, 10).unwrap();
    a.webhook_failed(due[0].id, 0, "boom").unwrap();
    a.webhook_delivered(due[0].id, now_ms()).unwrap();
    assert_eq!(a.revision().unwrap(), r2, "nothing served changed");

    let signed = at_state(&*a, "signed", State::Approved);
    let mut last = a.revision().unwrap();
    assert!(last > r2);
    let moves: Vec<Change<'_>> = vec![
        Box::new(|s| assert!(s.insert_token("t", "read", &"7".repeat(64)).unwrap() > 0)),
        Box::new(|s| assert!(s.revoke_token("t").unwrap())),
        Box::new(|s| s.update_scan(id, &outcome(Verdict::Clean, "r9"), "x").unwrap()),
        Box::new(|s| {
            let f =
                SyncFailure { id: 0, at: 1, upstream: "u".into(), slug: "s".into(), version: None, error: "e".into() };
            s.record_sync_failure(&f).unwrap()
        }),
        Box::new(|s| s.resign(&[(signed, "sig".into())], "admin", "rotate").unwrap()),
    ];
    for (i, m) in moves.iter().enumerate() {
        m(if i % 2 == 0 { &*a } else { &*b });
        let now = b.revision().unwrap();
        assert!(now > last, "change {i} moved the revision");
        last = now;
    }
}

pub fn an_export_imports_into_an_empty_store_unchanged(db: &dyn Database) {
    let s = db.handle();
    let id = at_state(&*s, "weather", State::Approved);
    s.update_scan(id, &outcome(Verdict::Caution, "rules-3"), "schedule").unwrap();
    at_state(&*s, "other", State::Rejected);
    insert(&*s, "pending", "0.1.0");
    s.insert_token("ci", "read", &"1".repeat(64)).unwrap();
    s.insert_token("old", "admin", &"2".repeat(64)).unwrap();
    s.revoke_token("old").unwrap();
    let alert = IntegrityAlert {
        id: 0,
        at: 5,
        kind: "blob-missing".into(),
        slug: "weather".into(),
        version: "1.0.0".into(),
        pinned_sha256: "a".repeat(64),
        observed_sha256: String::new(),
        detail: "gone".into(),
    };
    s.record_blob_fault(&alert, "scrub", vec![hook("hook", "integrity_alert", "{}")]).unwrap();
    let due = s.due_webhooks(i64::MAX, 10).unwrap();
    s.webhook_failed(due[0].id, 77, "timeout").unwrap();
    s.record_sync_failure(&SyncFailure {
        id: 0,
        at: 9,
        upstream: "u".into(),
        slug: "x".into(),
        version: None,
        error: "e".into(),
    })
    .unwrap();
    let exported = s.export().unwrap();
    assert_eq!(exported.versions.len(), 3);
    assert_eq!(exported.tokens.len(), 2);
    assert_eq!(exported.outbox[0].last_error.as_deref(), Some("timeout"));

    let target = db.fresh();
    let t = target.handle();
    t.import(&exported).unwrap();
    let again = t.export().unwrap();
    assert_eq!(
        serde_json::to_value(&again).unwrap(),
        serde_json::to_value(&exported).unwrap(),
        "every row, id and time survives the copy"
    );
    assert_eq!(t.find_token(&"1".repeat(64)).unwrap().unwrap().name, "ci");
    assert!(t.find_token(&"2".repeat(64)).unwrap().unwrap().revoked);
    // New rows are numbered after the imported ones, and the state machine goes on.
    let next = insert(&*t, "new", "1.0.0");
    assert!(exported.versions.iter().all(|v| v.id < next));
    let last_audit = exported.audit.iter().map(|a| a.id).max().unwrap();
    assert!(t.audit(Some(1)).unwrap()[0].id > last_audit);
    assert!(t.revision().unwrap() > 0);
    // A second import into a store that now holds a mirror is refused, and changes nothing.
    let err = t.import(&exported).unwrap_err();
    assert!(matches!(err, StoreError::AlreadyExists(_)), "{err:?}");
    assert_eq!(t.versions(None).unwrap().len(), 4);
}

/// Every check, as one test per backend. `$db` is an expression giving a `Box<dyn Database>`.
#[macro_export]
macro_rules! conformance_suite {
    ($backend:ident, $db:expr $(, #[$attr:meta])*) => {
        mod $backend {
            #[allow(unused_imports)]
            use super::*;
            $crate::conformance_suite!(@checks $db, { $(#[$attr])* },
                a_version_reads_back_as_written,
                an_insert_of_a_pinned_version_reads_the_pin_back,
                concurrent_inserts_of_one_version_pin_it_once,
                versions_list_by_state_and_by_slug,
                a_transition_is_a_compare_and_set_with_its_audit_and_webhooks,
                concurrent_deciders_from_two_handles_one_wins,
                a_reader_never_sees_a_decision_without_its_audit_and_webhook,
                a_rescan_updates_the_verdict_and_is_audited,
                resigning_replaces_signatures_with_one_audit_row_each,
                the_audit_log_is_append_only_and_ordered,
                incidents_are_recorded_once_and_audited,
                tokens_are_kept_by_hash_and_revocable,
                the_outbox_delivers_at_least_once_with_stable_event_ids,
                the_revision_moves_on_every_commit_from_any_writer_and_on_nothing_else,
                an_export_imports_into_an_empty_store_unchanged,
            );
        }
    };
    // The attributes travel as one group so each check can repeat them.
    (@checks $db:expr, $attrs:tt, $($check:ident),* $(,)?) => {
        $( $crate::conformance_suite!(@one $db, $attrs, $check); )*
    };
    (@one $db:expr, { $(#[$attr:meta])* }, $check:ident) => {
        #[test]
        $(#[$attr])*
        fn $check() {
            let db = $db;
            $crate::conformance::$check(&*db);
        }
    };
}

/// The embedded default: one SQLite file, a connection per handle.
struct SqliteDb {
    dir: tempfile::TempDir,
}

impl Database for SqliteDb {
    fn handle(&self) -> Arc<dyn MetaStore> {
        Arc::new(skillscan_mirror::store::sqlite::SqliteStore::open(&self.dir.path().join("mirror.db")).unwrap())
    }
    fn fresh(&self) -> Box<dyn Database> {
        sqlite()
    }
}

fn sqlite() -> Box<dyn Database> {
    Box::new(SqliteDb { dir: tempfile::tempdir().unwrap() })
}

conformance_suite!(sqlite_backend, sqlite());

/// PostgreSQL: one fresh schema of the database at `SKILLSCAN_PG_URL` per test (tests run in
/// parallel and never see each other), a store (its own connection pool) per handle.
mod pg {
    use std::sync::Arc;

    use skillscan_mirror::store::MetaStore;
    use skillscan_mirror::store::postgres::PgStore;

    pub fn url() -> String {
        match std::env::var("SKILLSCAN_PG_URL") {
            Ok(url) if !url.is_empty() => url,
            _ => panic!(
                "SKILLSCAN_PG_URL is not set, and the PostgreSQL tests are required (SKILLSCAN_REQUIRE_POSTGRES=1): \
                 start a server with `.ci/postgres.sh start DIR` and `source DIR/env`"
            ),
        }
    }

    /// A schema name no other test uses.
    pub fn fresh_schema() -> String {
        let mut b = [0u8; 8];
        getrandom::fill(&mut b).unwrap();
        format!("conformance_{}", hex::encode(b))
    }

    pub struct PgDb {
        pub url: String,
        pub schema: String,
    }

    impl PgDb {
        pub fn store(&self) -> PgStore {
            PgStore::connect_with_schema(&self.url, &self.schema).unwrap()
        }
    }

    impl super::Database for PgDb {
        fn handle(&self) -> Arc<dyn MetaStore> {
            Arc::new(self.store())
        }
        fn fresh(&self) -> Box<dyn super::Database> {
            Box::new(db())
        }
    }

    /// A passing test's schema is dropped (a failing one's is kept, to look at).
    impl Drop for PgDb {
        fn drop(&mut self) {
            if std::thread::panicking() {
                eprintln!("kept the schema {} of the failed test", self.schema);
                return;
            }
            let raw = Raw::new(self);
            let _ =
                raw.rt.block_on(raw.client.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema)));
        }
    }

    pub fn db() -> PgDb {
        PgDb { url: url(), schema: fresh_schema() }
    }

    /// `url` with `key=value` added to its query string.
    pub fn with_param(url: &str, key: &str, value: &str) -> String {
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}{key}={value}")
    }

    /// A plain client on `db`'s schema, on a runtime of the test's own, for what the store does
    /// not offer (raw SQL against the triggers, terminating its connections).
    pub struct Raw {
        pub rt: tokio::runtime::Runtime,
        pub client: tokio_postgres::Client,
    }

    impl Raw {
        pub fn new(db: &PgDb) -> Raw {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            let client = rt.block_on(async {
                let (client, conn) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls).await.unwrap();
                tokio::spawn(conn);
                client.batch_execute(&format!("SET search_path = {}", db.schema)).await.unwrap();
                client
            });
            Raw { rt, client }
        }

        pub fn execute(&self, sql: &str) -> Result<u64, tokio_postgres::Error> {
            self.rt.block_on(self.client.execute(sql, &[]))
        }

        pub fn count(&self, sql: &str) -> i64 {
            self.rt.block_on(self.client.query_one(sql, &[])).unwrap().get(0)
        }
    }
}

fn postgres() -> Box<dyn Database> {
    Box::new(pg::db())
}

conformance_suite!(postgres_backend, postgres(), #[cfg_attr(no_postgres, ignore = "SKILLSCAN_PG_URL not set: start one with .ci/postgres.sh start DIR and source DIR/env")]);

/// What only PostgreSQL needs checking: its own enforcement, connections, timeouts, migrations.
mod postgres_only {
    use std::sync::Arc;

    use skillscan_mirror::store::postgres::PgStore;
    use skillscan_mirror::store::prelude::*;
    use skillscan_mirror::store::{MetaStore, StoreError};

    use super::insert;
    use super::pg;

    #[test]
    #[cfg_attr(
        no_postgres,
        ignore = "SKILLSCAN_PG_URL not set: start one with .ci/postgres.sh start DIR and source DIR/env"
    )]
    fn the_database_itself_refuses_to_rewrite_pins_audit_or_versions() {
        let db = pg::db();
        let s = db.store();
        insert(&s, "weather", "1.0.0");
        let raw = pg::Raw::new(&db);
        for sql in [
            "UPDATE versions SET archive_sha256 = 'b'",
            "UPDATE versions SET tree_digest = 'sha256:b'",
            "UPDATE versions SET archive_size = 1",
            "UPDATE versions SET slug = 'other'",
            "UPDATE versions SET version = '9'",
            "DELETE FROM versions",
            "TRUNCATE versions CASCADE",
            "UPDATE audit SET reason = 'x'",
            "DELETE FROM audit",
            "TRUNCATE audit",
        ] {
            let err = raw.execute(sql).expect_err(sql);
            let msg = err.as_db_error().map(|e| e.message().to_string()).unwrap_or_default();
            assert!(
                msg.contains("immutable") || msg.contains("never deleted") || msg.contains("append-only"),
                "{sql}: {msg}"
            );
        }
        // What is not pinned may change (the store itself does it on every decision).
        assert_eq!(raw.execute("UPDATE versions SET state_reason = 'r'").unwrap(), 1);
        assert_eq!(raw.count("SELECT COUNT(*) FROM audit"), 1);
        assert_eq!(s.get_version("weather", "1.0.0").unwrap().unwrap().archive_sha256, "a".repeat(64));
    }

    #[test]
    #[cfg_attr(
        no_postgres,
        ignore = "SKILLSCAN_PG_URL not set: start one with .ci/postgres.sh start DIR and source DIR/env"
    )]
    fn a_lost_connection_is_replaced_on_the_next_call() {
        let db = pg::db();
        let app = format!("skillscan_{}", db.schema);
        let s: Arc<dyn MetaStore> = Arc::new(
            PgStore::connect_with_schema(&pg::with_param(&db.url, "application_name", &app), &db.schema).unwrap(),
        );
        insert(&*s, "weather", "1.0.0");
        let raw = pg::Raw::new(&db);
        for round in 0..3 {
            let killed = raw.count(&format!(
                "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '{app}'"
            ));
            assert!(killed >= 1, "round {round}: the store had a connection to terminate");
            // Reads and writes both go on, on new connections.
            assert!(s.get_version("weather", "1.0.0").unwrap().is_some(), "round {round}");
            insert(&*s, "weather", &format!("2.0.{round}"));
            assert_eq!(s.versions_of("weather").unwrap().len(), 2 + round);
        }
    }

    #[test]
    #[cfg_attr(
        no_postgres,
        ignore = "SKILLSCAN_PG_URL not set: start one with .ci/postgres.sh start DIR and source DIR/env"
    )]
    fn a_stuck_database_fails_the_call_instead_of_hanging_it() {
        let db = pg::db();
        // The URL's own server options override the store's timeouts: half a second here.
        let url = pg::with_param(&db.url, "options", "-c%20statement_timeout%3D500");
        let s = PgStore::connect_with_schema(&url, &db.schema).unwrap();
        insert(&s, "weather", "1.0.0");
        // Another session holds the writers' lock (the revision row) and does not let go.
        let raw = pg::Raw::new(&db);
        raw.rt.block_on(raw.client.batch_execute("BEGIN; SELECT n FROM revision WHERE id = 1 FOR UPDATE")).unwrap();
        let t = std::time::Instant::now();
        let err = s.revoke_token("nobody").unwrap_err();
        assert!(err.to_string().contains("statement timeout"), "{err}");
        assert!(t.elapsed() < std::time::Duration::from_secs(10), "{:?}", t.elapsed());
        // Reads take no lock and go on meanwhile; writes do once the lock is released.
        assert!(s.get_version("weather", "1.0.0").unwrap().is_some());
        raw.rt.block_on(raw.client.batch_execute("ROLLBACK")).unwrap();
        insert(&s, "weather", "2.0.0");
    }

    #[test]
    #[cfg_attr(
        no_postgres,
        ignore = "SKILLSCAN_PG_URL not set: start one with .ci/postgres.sh start DIR and source DIR/env"
    )]
    fn a_write_cut_off_before_commit_is_retried_on_a_new_connection() {
        let db = pg::db();
        let app = format!("skillscan_{}", db.schema);
        let url = pg::with_param(&db.url, "application_name", &app);
        let s = Arc::new(PgStore::connect_with_schema(&url, &db.schema).unwrap());
        insert(&*s, "weather", "1.0.0");
        // Hold the writers' lock, so the store's write waits inside its transaction.
        let holder = pg::Raw::new(&db);
        holder
            .rt
            .block_on(holder.client.batch_execute("BEGIN; SELECT n FROM revision WHERE id = 1 FOR UPDATE"))
            .unwrap();
        let watcher = pg::Raw::new(&db);
        // The store's sessions waiting for a lock.
        let waiters = || -> Vec<i32> {
            let sql = format!(
                "SELECT pid FROM pg_stat_activity WHERE application_name = '{app}' AND wait_event_type = 'Lock'"
            );
            watcher.rt.block_on(watcher.client.query(&sql, &[])).unwrap().iter().map(|r| r.get(0)).collect()
        };
        let writer = {
            let s = s.clone();
            std::thread::spawn(move || s.insert_version(&super::new_version("weather", "2.0.0", 'b'), "t", "r"))
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let first = loop {
            if let Some(pid) = waiters().first() {
                break *pid;
            }
            assert!(std::time::Instant::now() < deadline, "the store's write never waited for the lock");
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        assert_eq!(watcher.count(&format!("SELECT COUNT(pg_terminate_backend({first}))")), 1);
        // The write comes back on another connection and waits again; then the lock is freed.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !waiters().iter().any(|p| *p != first) {
            assert!(std::time::Instant::now() < deadline, "the cut-off write was not retried");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        holder.rt.block_on(holder.client.batch_execute("ROLLBACK")).unwrap();
        assert!(matches!(writer.join().unwrap().unwrap(), skillscan_mirror::store::Inserted::New(_)));
        assert_eq!(s.versions_of("weather").unwrap().len(), 2);
        let fetches = s.audit(None).unwrap().into_iter().filter(|e| e.action == "fetch").count();
        assert_eq!(fetches, 2, "the retried write is audited once");
    }

    /// Where PostgreSQL differs from SQLite: its text cannot hold NUL, which SQLite stores. Such
    /// a row is refused whole (nothing written), and the store goes on.
    #[test]
    #[cfg_attr(
        no_postgres,
        ignore = "SKILLSCAN_PG_URL not set: start one with .ci/postgres.sh start DIR and source DIR/env"
    )]
    fn text_with_nul_is_refused_whole() {
        let db = pg::db();
        let s = db.store();
        let before = s.revision().unwrap();
        let v = skillscan_mirror::store::NewVersion {
            changelog: "hostile\0changelog".into(),
            ..super::new_version("weather", "1.0.0", 'a')
        };
        let err = s.insert_version(&v, "sync", "fetched").unwrap_err();
        assert!(matches!(err, StoreError::Backend { .. }) && err.to_string().contains("0x00"), "{err}");
        assert!(s.versions(None).unwrap().is_empty() && s.audit(None).unwrap().is_empty());
        assert_eq!(s.revision().unwrap(), before);
        insert(&s, "weather", "1.0.0");
    }

    const TLS_CHILD: &str = "conformance::postgres_only::tls_child";

    /// `sslmode=require` is TLS with the server's certificate verified against the system's roots
    /// (`.ci/postgres.sh` gives its server a certificate from a CA of its own, SKILLSCAN_PG_CA).
    /// Checked in child processes, whose roots are set through the environment
    /// (rustls-native-certs reads SSL_CERT_FILE and SSL_CERT_DIR).
    #[test]
    #[cfg_attr(
        no_postgres,
        ignore = "SKILLSCAN_PG_URL not set: start one with .ci/postgres.sh start DIR and source DIR/env"
    )]
    fn sslmode_require_verifies_the_server_certificate() {
        let ca = std::env::var("SKILLSCAN_PG_CA").unwrap_or_default();
        assert!(
            !ca.is_empty(),
            "SKILLSCAN_PG_CA is not set: start the server with .ci/postgres.sh, which gives it TLS"
        );
        for (expect, roots) in [("trusted", Some(ca.as_str())), ("refused", None)] {
            let mut child = std::process::Command::new(std::env::current_exe().unwrap());
            child.args([TLS_CHILD, "--exact", "--ignored", "--test-threads=1"]).env("SKILLSCAN_PG_TLS_EXPECT", expect);
            match roots {
                Some(ca) => child.env("SSL_CERT_FILE", ca),
                // The system's own roots, which do not hold the test CA.
                None => child.env_remove("SSL_CERT_FILE").env_remove("SSL_CERT_DIR"),
            };
            let out = child.output().unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success() && stdout.contains("1 passed"),
                "{expect}: {stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    #[test]
    #[ignore = "run by sslmode_require_verifies_the_server_certificate, with the roots it sets"]
    fn tls_child() {
        let db = pg::db();
        let app = format!("skillscan_{}", db.schema);
        let url = pg::with_param(&pg::with_param(&db.url, "sslmode", "require"), "application_name", &app);
        if std::env::var("SKILLSCAN_PG_TLS_EXPECT").as_deref() == Ok("refused") {
            let err = PgStore::connect_with_schema(&url, &db.schema).unwrap_err().to_string();
            assert!(err.contains("UnknownIssuer") || err.contains("no usable root certificate"), "{err}");
            return;
        }
        let s = PgStore::connect_with_schema(&url, &db.schema).unwrap();
        insert(&s, "weather", "1.0.0");
        assert_eq!(s.versions(None).unwrap().len(), 1);
        let raw = pg::Raw::new(&db);
        let tls = raw.count(&format!(
            "SELECT COUNT(*) FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) WHERE application_name = '{app}' AND ssl"
        ));
        assert!(tls >= 1, "the store's connections are TLS");
    }

    #[test]
    #[cfg_attr(
        no_postgres,
        ignore = "SKILLSCAN_PG_URL not set: start one with .ci/postgres.sh start DIR and source DIR/env"
    )]
    fn calls_from_inside_an_async_context_do_not_panic() {
        let db = pg::db();
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async {
            // Opened, used and dropped on a runtime worker: no block_on in the caller's context.
            let s = db.store();
            insert(&s, "weather", "1.0.0");
            assert_eq!(s.versions(None).unwrap().len(), 1);
            let s = Arc::new(s);
            let s2 = s.clone();
            tokio::spawn(async move { s2.revision().unwrap() }).await.unwrap();
            tokio::task::spawn_blocking(move || s.tokens().unwrap()).await.unwrap();
        });
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let s = db.store();
            assert!(s.get_version("weather", "1.0.0").unwrap().is_some());
            drop(s);
        });
    }

    #[test]
    #[cfg_attr(
        no_postgres,
        ignore = "SKILLSCAN_PG_URL not set: start one with .ci/postgres.sh start DIR and source DIR/env"
    )]
    fn migrations_apply_once_even_when_replicas_start_together() {
        let db = pg::db();
        let starts: Vec<_> = (0..4)
            .map(|_| {
                let (url, schema) = (db.url.clone(), db.schema.clone());
                std::thread::spawn(move || PgStore::connect_with_schema(&url, &schema).map(|s| s.schema_version()))
            })
            .collect();
        for s in starts {
            assert_eq!(s.join().unwrap().unwrap().unwrap(), 1);
        }
        let raw = pg::Raw::new(&db);
        assert_eq!(raw.count("SELECT COUNT(*) FROM schema_migrations"), 1);
        // A database migrated by a newer build is refused, not used half-understood.
        raw.execute("INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 0)").unwrap();
        let err = PgStore::connect_with_schema(&db.url, &db.schema).unwrap_err();
        assert!(err.to_string().contains("9999"), "{err}");
    }

    #[test]
    #[cfg_attr(
        no_postgres,
        ignore = "SKILLSCAN_PG_URL not set: start one with .ci/postgres.sh start DIR and source DIR/env"
    )]
    fn errors_never_show_the_password() {
        let url = pg::url();
        // postgres://user:PASSWORD@host:port/db
        let password = url
            .split_once("://")
            .and_then(|(_, rest)| rest.split_once('@'))
            .and_then(|(auth, _)| auth.split_once(':'))
            .map(|(_, p)| p.to_string());
        let Some(password) = password.filter(|p| !p.is_empty()) else { return };
        let wrong = url.replacen(&format!(":{password}@"), ":not-the-password-s3cr3t@", 1);
        let err = PgStore::connect(&wrong).unwrap_err().to_string();
        assert!(!err.contains("s3cr3t"), "{err}");
        assert!(err.contains("password authentication failed") || err.contains("authentication"), "{err}");
        for bad in [
            format!("{url}&port=notaport"),
            format!("{url}?sslmode=bogus-{password}"),
            url.replacen("127.0.0.1", "127.0.0.1:99999", 1),
        ] {
            let err = PgStore::connect(&bad).unwrap_err().to_string();
            assert!(!err.contains(&password), "{err}");
        }
        let err = PgStore::connect("mysql://root:hunter2@localhost/db").unwrap_err().to_string();
        assert!(!err.contains("hunter2") && err.contains("postgres://"), "{err}");
        // Nothing listens on port 1: a prompt error, not a hang.
        let t = std::time::Instant::now();
        let err = PgStore::connect("postgresql://u:hunter2@127.0.0.1:1/db").unwrap_err().to_string();
        assert!(!err.contains("hunter2"), "{err}");
        assert!(t.elapsed() < std::time::Duration::from_secs(20));
    }

    #[test]
    #[cfg_attr(
        no_postgres,
        ignore = "SKILLSCAN_PG_URL not set: start one with .ci/postgres.sh start DIR and source DIR/env"
    )]
    fn schemas_keep_tests_apart_and_slugs_sort_bytewise() {
        let (a, b) = (pg::db(), pg::db());
        let (sa, sb) = (a.store(), b.store());
        for slug in ["b", "B", "a-z", "az", "_x"] {
            insert(&sa, slug, "1.0.0");
        }
        assert!(sb.versions(None).unwrap().is_empty(), "another schema sees nothing");
        let order: Vec<_> = sa.versions(None).unwrap().into_iter().map(|v| v.slug).collect();
        // Byte order, as SQLite sorts, whatever the database's locale.
        assert_eq!(order, ["B", "_x", "a-z", "az", "b"]);
        assert_eq!(sa.backend(), "postgres");
        assert!(matches!(
            PgStore::connect_with_schema(&a.url, "Robert'); DROP TABLE versions;--"),
            Err(StoreError::Backend { .. })
        ));
    }
}
