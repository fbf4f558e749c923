//! The ClawHub-compatible read API (`shared/reference/clawhub-protocol.md` §2, with the
//! shapes CLI 0.23.3 actually requires from `clawhub-cli-trace.md`).
//!
//! Only approved versions are listed or served. For anything else the decision is
//! [`crate::snapshot::Snapshot::resolve`]'s and is the same on every route, the download
//! route included: 404 unknown, 403 rejected/revoked (plain-text reason), 423 pending
//! review; the install resolver, `verify` and the security verdicts carry the same reason
//! in their JSON.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use skillscan::clawhub::api;

use super::params::Params;
use super::{
    SKILL_NOT_FOUND, VERSION_NOT_FOUND, available, count_pending, count_refused, json_body, json_bytes,
    json_with_status, not_found, served, unknown_text,
};
use crate::error::ApiError;
use crate::snapshot::{
    CHANGELOG_SOURCE, Lookup, Resolution, SkillView, VersionView, ZipBytes, moderation_blocked, unavailable_message,
};
use crate::state::AppState;
use crate::store::StoreError;
use crate::validate::{self, InvalidInput};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/.well-known/clawhub.json", get(well_known))
        .route("/.well-known/clawdhub.json", get(well_known))
        .route("/api/v1/search", get(search))
        .route("/api/v1/skills", get(list))
        .route("/api/v1/skills/resolve", get(resolve))
        .route("/api/v1/resolve", get(resolve))
        .route("/api/v1/skills/-/security-verdicts", post(security_verdicts))
        .route("/api/v1/skills/{slug}", get(detail))
        .route("/api/v1/skills/{slug}/versions", get(versions))
        .route("/api/v1/skills/{slug}/versions/{version}", get(version))
        .route("/api/v1/skills/{slug}/file", get(file))
        .route("/api/v1/skills/{slug}/install", get(install))
        .route("/api/v1/skills/{slug}/verify", get(verify))
        .route("/api/v1/skills/{slug}/moderation", get(moderation))
        .route("/api/v1/skills/{slug}/card", get(card))
        .route("/api/v1/download", get(download))
}

/// `ownerHandle` (alias `owner`), unvalidated.
fn owner_of(p: &Params) -> Option<&str> {
    p.get("ownerHandle").or_else(|| p.get("owner"))
}

/// `ownerHandle` (alias `owner`), validated; a mismatch hides the skill.
fn owner_param(p: &Params) -> Result<Option<String>, ApiError> {
    Ok(owner_of(p).map(validate::owner).transpose()?.map(String::from))
}

/// The version a request names: `slug`, `ownerHandle` (alias `owner`) and `version`, or
/// `tag` (the mirror only maintains `latest`; another tag is a version it does not have).
fn lookup(slug: &str, p: &Params) -> Result<Lookup, ApiError> {
    let lookup = checked_lookup(slug, owner_of(p), p.get("version"))?;
    if lookup.version.is_none() {
        match p.get("tag") {
            Some("latest") | None => {}
            Some(t) if t.len() > 64 => return Err(ApiError::BadRequest("Invalid tag".into())),
            Some(_) => return Err(ApiError::NotFound(VERSION_NOT_FOUND)),
        }
    }
    Ok(lookup)
}

/// A [`Lookup`] from untrusted parts, checked in this order: slug, owner, version.
fn checked_lookup(slug: &str, owner: Option<&str>, version: Option<&str>) -> Result<Lookup, InvalidInput> {
    validate::slug(slug)?;
    let owner = owner.map(validate::owner).transpose()?.map(String::from);
    if let Some(v) = version {
        validate::version(v)?;
    }
    Ok(Lookup { slug: slug.to_string(), owner, version: version.map(str::to_string) })
}

/// `apiBase` is `public_url`, else the address the server listens on. Never the request's
/// `Host:` header: a client (or a cache in front of the mirror) could make the mirror point
/// other clients at a host of its choosing.
async fn well_known(State(st): State<AppState>) -> Response {
    let base = match &st.mirror.config.public_url {
        Some(u) => u.trim_end_matches('/').to_string(),
        None => format!("http://{}", st.mirror.config.listen),
    };
    json_body(&api::WellKnownResponse {
        api_base: Some(base.clone()),
        auth_base: None,
        min_cli_version: Some("0.1.0".into()),
        registry: Some(base),
    })
}

async fn search(State(st): State<AppState>, p: Params) -> Result<Response, ApiError> {
    if let Some(m) = p.get("mode")
        && !matches!(m, "exact" | "semantic" | "hybrid" | "default")
    {
        return Err(ApiError::BadRequest("Invalid search mode".into()));
    }
    let limit = p.limit(25, 200)?;
    let q = p.get("q").unwrap_or("").trim().to_lowercase();
    if q.is_empty() {
        return Ok(json_body(&api::SearchResponse::default()));
    }
    let words: Vec<&str> = q.split_whitespace().take(16).collect();
    let snap = st.snapshot.load();
    let mut hits: Vec<(f64, &Arc<SkillView>)> = snap
        .by_updated
        .iter()
        .filter_map(|s| {
            let matched = words.iter().filter(|w| s.haystack.contains(*w)).count();
            if matched == 0 {
                return None;
            }
            let mut score = matched as f64 / words.len() as f64;
            if s.slug == q {
                score += 1.0;
            }
            Some((score, s))
        })
        .collect();
    hits.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.slug.cmp(&b.1.slug)));
    let results = hits
        .into_iter()
        .take(limit)
        .map(|(score, s)| api::SearchResult {
            display_name: Some(s.display_name.clone()),
            downloads: Some(0),
            icon: None,
            owner: s.owner.as_ref().map(|h| api::SearchOwner {
                display_name: Some(h.clone()),
                handle: Some(h.clone()),
                image: None,
            }),
            owner_handle: s.owner.clone(),
            score: (score * 1000.0).round() / 1000.0,
            slug: Some(s.slug.clone()),
            summary: s.summary.clone(),
            updated_at: Some(s.updated_at),
            version: Some(s.latest().version.clone()),
        })
        .collect();
    Ok(json_body(&api::SearchResponse { results }))
}

/// Cursors are opaque to clients; here they are a decimal offset into the snapshot order.
fn parse_cursor(v: Option<&str>) -> Result<usize, ApiError> {
    match v {
        None => Ok(0),
        Some(s) if s.len() <= 12 => s.parse().map_err(|_| ApiError::BadRequest("Invalid cursor".into())),
        Some(_) => Err(ApiError::BadRequest("Invalid cursor".into())),
    }
}

async fn list(State(st): State<AppState>, p: Params) -> Result<Response, ApiError> {
    let limit = p.limit(25, 200)?;
    let offset = parse_cursor(p.get("cursor"))?;
    let sort = p.get("sort").unwrap_or("updated");
    let prefix = match p.get("prefix") {
        Some(x) => Some(validate::slug(x).map_err(|_| ApiError::BadRequest("Invalid prefix".into()))?),
        None => None,
    };
    let snap = st.snapshot.load();
    let mut items: Vec<&Arc<SkillView>> =
        snap.by_updated.iter().filter(|s| prefix.as_ref().is_none_or(|x| s.slug.starts_with(x.as_str()))).collect();
    match sort {
        "updated" | "recommended" | "default" | "downloads" | "installs" | "installsCurrent" | "installsAllTime"
        | "stars" | "rating" | "trending" => {}
        "createdAt" | "newest" => {
            items.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| a.slug.cmp(&b.slug)))
        }
        "name" => items.sort_by(|a, b| a.slug.cmp(&b.slug)),
        _ => return Err(ApiError::BadRequest("Invalid sort".into())),
    }
    let page = items.iter().skip(offset).take(limit).map(|s| s.list_item.clone()).collect();
    let next_cursor = (offset + limit < items.len()).then(|| (offset + limit).to_string());
    Ok(json_body(&api::SkillListResponse { items: page, next_cursor }))
}

async fn detail(State(st): State<AppState>, Path(slug): Path<String>, p: Params) -> Result<Response, ApiError> {
    validate::slug(&slug)?;
    let owner = owner_param(&p)?;
    super::pull_through(&st, &slug, None).await;
    let snap = st.snapshot.load();
    if let Some(s) = snap.served_skill(&slug, owner.as_deref()) {
        return Ok(json_bytes(available(s)?.detail_json.clone()));
    }
    if let Some(b) = snap.blocked_skill(&slug, owner.as_deref()) {
        return Ok(json_bytes(b.detail_json.clone()));
    }
    Err(ApiError::NotFound(SKILL_NOT_FOUND))
}

async fn versions(State(st): State<AppState>, Path(slug): Path<String>, p: Params) -> Result<Response, ApiError> {
    validate::slug(&slug)?;
    let limit = p.limit(25, 200)?;
    let offset = parse_cursor(p.get("cursor"))?;
    let owner = owner_param(&p)?;
    let snap = st.snapshot.load();
    let Some(s) = snap.served_skill(&slug, owner.as_deref()) else {
        if snap.blocked_skill(&slug, owner.as_deref()).is_some() {
            return Ok(json_body(&api::VersionListResponse::default()));
        }
        return Err(ApiError::NotFound(SKILL_NOT_FOUND));
    };
    let items = available(s)?
        .versions
        .iter()
        .skip(offset)
        .take(limit)
        .map(|v| api::VersionListItem {
            changelog: v.changelog.clone(),
            changelog_source: Some(CHANGELOG_SOURCE.into()),
            created_at: Some(v.created_at),
            version: v.version.clone(),
        })
        .collect();
    let next_cursor = (offset + limit < s.versions.len()).then(|| (offset + limit).to_string());
    Ok(json_body(&api::VersionListResponse { items, next_cursor }))
}

async fn version(
    State(st): State<AppState>,
    Path((slug, version)): Path<(String, String)>,
    mut p: Params,
) -> Result<Response, ApiError> {
    p.0.insert("version".into(), version);
    let wanted = lookup(&slug, &p)?;
    super::pull_through(&st, &wanted.slug, wanted.version.as_deref()).await;
    let (_, v) = served(&st, st.snapshot.load().resolve(&wanted))?;
    Ok(json_bytes(v.version_json.clone()))
}

/// Bytes of an approved archive: from memory, or from the blob store (verified). A cold
/// blob found missing or corrupt is a blob fault: reported (alerted once; the next snapshot
/// makes the skill unavailable) and answered 503 with the plain reason, never 500.
async fn zip_bytes(st: &AppState, slug: &str, v: &VersionView) -> Result<Bytes, ApiError> {
    let unavailable = || ApiError::Unavailable(unavailable_message(slug, &v.version));
    match &v.zip {
        ZipBytes::Hot(b) => Ok(b.clone()),
        ZipBytes::Unavailable => Err(unavailable()),
        ZipBytes::Cold => {
            let m = st.mirror.clone();
            let (slug, version, sha) = (slug.to_string(), v.version.clone(), v.archive_sha256.clone());
            let read = tokio::task::spawn_blocking(move || match m.blobs.get(&sha) {
                Ok(b) => Ok(Bytes::from(b)),
                Err(e @ (StoreError::BlobMissing(_) | StoreError::BlobCorrupt(_))) => {
                    tracing::error!(%slug, %version, "approved blob unusable: {e}");
                    let reported = m.get(&slug, &version).and_then(|rec| m.blob_fault(&rec, &e, "serve"));
                    if let Err(report) = reported {
                        tracing::error!(%slug, %version, "cannot record the blob fault: {report}");
                    }
                    Err(None)
                }
                Err(e) => Err(Some(ApiError::from(e))),
            });
            match read.await.map_err(|e| ApiError::Internal(e.to_string()))? {
                Ok(b) => Ok(b),
                Err(None) => Err(unavailable()),
                Err(Some(e)) => Err(e),
            }
        }
    }
}

async fn file(State(st): State<AppState>, Path(slug): Path<String>, p: Params) -> Result<Response, ApiError> {
    let path = p.get("path").ok_or_else(|| ApiError::BadRequest("Missing path".into()))?.to_string();
    validate::file_path(&path)?;
    let (_, v) = served(&st, st.snapshot.load().resolve(&lookup(&slug, &p)?))?;
    let entry = v
        .files
        .iter()
        .find(|f| f.path == path)
        .or_else(|| v.files.iter().find(|f| f.path.eq_ignore_ascii_case(&path)))
        .ok_or(ApiError::NotFound("File not found"))?
        .clone();
    let zip = zip_bytes(&st, &slug, &v).await?;
    let bytes = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, ApiError> {
        let a = crate::archive::SkillArchive::read(&zip, &Default::default())
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        a.files.get(&entry.path).cloned().ok_or(ApiError::NotFound("File not found"))
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))??;
    let preview = p.get("preview").is_some_and(|x| x == "1" || x == "true");
    let ctype = if preview {
        let s =
            std::str::from_utf8(&bytes).map_err(|_| ApiError::UnsupportedMediaType("File is not UTF-8 text".into()))?;
        if s.len() > 200 * 1024 {
            return Err(ApiError::UnsupportedMediaType("File too large to preview".into()));
        }
        "text/plain; charset=utf-8"
    } else if entry.content_type.starts_with("text/") {
        "text/plain; charset=utf-8"
    } else {
        "application/octet-stream"
    };
    let sha = crate::archive::sha256_hex(&bytes);
    let len = bytes.len();
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-content-sha256", HeaderValue::from_str(&sha).unwrap_or(HeaderValue::from_static("")));
    h.insert("x-content-size", HeaderValue::from(len));
    h.insert(header::ETAG, HeaderValue::from_str(&format!("\"{sha}\"")).unwrap_or(HeaderValue::from_static("")));
    Ok(r)
}

async fn install(State(st): State<AppState>, Path(slug): Path<String>, p: Params) -> Result<Response, ApiError> {
    // The CLI reads 403/423 resolver answers as JSON (protocol §2.3).
    let refusal = |status: StatusCode, reason: &str, message: String| {
        json_with_status(
            status,
            &api::InstallRefusal {
                message,
                ok: false,
                reason: reason.into(),
                slug: slug.clone(),
                status: status.as_u16(),
            },
        )
    };
    let wanted = lookup(&slug, &p)?;
    super::pull_through(&st, &wanted.slug, wanted.version.as_deref()).await;
    match st.snapshot.load().resolve(&wanted) {
        Resolution::Served(s, v) => Ok(json_body(&api::InstallResponse {
            archive: api::InstallArchive {
                download_url: format!("/api/v1/download?slug={}&version={}", s.slug, v.version),
                version: v.version.clone(),
            },
            install_kind: "archive".into(),
            ok: true,
            slug: s.slug.clone(),
        })),
        Resolution::Refused(message) => {
            count_refused(&st);
            Ok(refusal(StatusCode::FORBIDDEN, "github_scan_failed", message))
        }
        Resolution::Pending(message) => {
            count_pending(&st);
            Ok(refusal(StatusCode::LOCKED, "github_verification_pending", message))
        }
        Resolution::Unavailable(message) => Err(ApiError::Unavailable(message)),
        Resolution::Unknown(unknown) => Err(not_found(unknown)),
    }
}

async fn resolve(State(st): State<AppState>, p: Params) -> Result<Response, ApiError> {
    let (Some(slug), Some(hash)) = (p.get("slug"), p.get("hash")) else {
        return Err(ApiError::BadRequest("Missing slug or hash".into()));
    };
    if !validate::sha256_hex(hash) {
        return Err(ApiError::BadRequest("Invalid hash".into()));
    }
    validate::slug(slug)?;
    let owner = owner_param(&p)?;
    let snap = st.snapshot.load();
    let Some(s) = snap.served_skill(slug, owner.as_deref()) else {
        return Err(ApiError::NotFound(SKILL_NOT_FOUND));
    };
    let s = available(s)?;
    let m = s.versions.iter().find(|v| v.fingerprint == hash || v.fingerprint_installed == hash);
    Ok(json_body(&api::ResolveResponse {
        latest_version: Some(api::VersionRef { version: s.latest().version.clone() }),
        matched: m.map(|v| api::VersionRef { version: v.version.clone() }),
        slug: Some(s.slug.clone()),
    }))
}

async fn download(State(st): State<AppState>, p: Params) -> Result<Response, ApiError> {
    let slug = p.get("slug").ok_or_else(|| ApiError::BadRequest("Missing slug".into()))?.to_string();
    let wanted = lookup(&slug, &p)?;
    super::pull_through(&st, &wanted.slug, wanted.version.as_deref()).await;
    // The approval check happens here, on the download route itself, not only in listings.
    let (s, v) = served(&st, st.snapshot.load().resolve(&wanted))?;
    let bytes = zip_bytes(&st, &s.slug, &v).await?;
    st.metrics.downloads.fetch_add(1, Ordering::Relaxed);
    st.metrics.download_bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/zip"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=60"));
    if let Ok(d) = HeaderValue::from_str(&format!("attachment; filename=\"{}-{}.zip\"", s.slug, v.version)) {
        h.insert(header::CONTENT_DISPOSITION, d);
    }
    if let Ok(x) = HeaderValue::from_str(&v.archive_sha256) {
        h.insert("x-skillscan-sha256", x);
    }
    if let Ok(x) = HeaderValue::from_str(&v.tree_digest) {
        h.insert("x-skillscan-tree-digest", x);
    }
    h.insert(
        "x-skillscan-signature-url",
        HeaderValue::from_str(&format!("/api/v1/download/signature?slug={}&version={}", s.slug, v.version))
            .unwrap_or(HeaderValue::from_static("")),
    );
    Ok(r)
}

/// `clawhub.skill.verify.v1`: ok/fail with the mirror's reasons and the proof material.
async fn verify(State(st): State<AppState>, Path(slug): Path<String>, p: Params) -> Result<Response, ApiError> {
    // A refusal is the answer's `decision`, not an HTTP error: a 200 that is not counted
    // as a refusal.
    let fail = |status: &str, reason: String| {
        json_body(&api::VerifyFail {
            decision: "fail".into(),
            ok: false,
            reasons: vec![reason],
            schema: api::VERIFY_SCHEMA.into(),
            security: api::SecurityStatus { passed: false, status: status.into() },
            slug: slug.clone(),
            version: p.get("version").map(str::to_string),
        })
    };
    let by_version = p.get("version").is_some();
    match st.snapshot.load().resolve(&lookup(&slug, &p)?) {
        Resolution::Served(s, v) => Ok(json_body(&api::VerifyPass {
            artifact: api::VerifyArtifact {
                sha256: v.archive_sha256.clone(),
                signature_url: format!("/api/v1/download/signature?slug={}&version={}", s.slug, v.version),
                size: v.archive_size,
                tree_digest: v.tree_digest.clone(),
            },
            card: None,
            created_at: v.created_at,
            decision: "pass".into(),
            display_name: s.display_name.clone(),
            ok: true,
            page_url: None,
            provenance: api::VerifyProvenance { approved_at: v.decided_at, mirror: "skillscan-mirror".into() },
            publisher_handle: s.owner.clone(),
            reasons: vec![],
            resolved_from: if by_version { "version" } else { "latest" }.into(),
            schema: api::VERIFY_SCHEMA.into(),
            security: api::VerifySecurity {
                passed: true,
                rules_version: v.rules_version.clone(),
                status: v.verdict.clone().unwrap_or_else(|| "clean".into()),
            },
            signature: api::VerifySignature {
                format: "minisign".into(),
                present: v.signature.is_some(),
                public_key_url: "/.well-known/skillscan.pub".into(),
            },
            slug: s.slug.clone(),
            tag: (!by_version).then(|| "latest".into()),
            version: v.version.clone(),
        })),
        Resolution::Refused(reason) => Ok(fail("malicious", reason)),
        Resolution::Pending(reason) => Ok(fail("pending", reason)),
        Resolution::Unavailable(reason) => Ok(fail("unavailable", reason)),
        Resolution::Unknown(unknown) => Err(not_found(unknown)),
    }
}

async fn moderation(State(st): State<AppState>, Path(slug): Path<String>) -> Result<Response, ApiError> {
    validate::slug(&slug)?;
    let snap = st.snapshot.load();
    match snap.blocked.get(&slug) {
        Some(b) if b.gate.state.is_refused() => Ok(json_body(&api::ModerationResponse {
            moderation: moderation_blocked(&b.gate, &slug, &b.newest_version),
        })),
        _ => Err(ApiError::NotFound("Moderation details unavailable")),
    }
}

async fn card(Path(slug): Path<String>) -> Result<Response, ApiError> {
    validate::slug(&slug)?;
    Err(ApiError::NotFound("Card not available"))
}

/// OpenClaw Control UI batch lookup (protocol §2.1).
async fn security_verdicts(
    State(st): State<AppState>,
    body: Result<axum::Json<api::SecurityVerdictsRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let axum::Json(body) = body?;
    if body.items.is_empty() || body.items.len() > 100 {
        return Err(ApiError::BadRequest("items must have 1 to 100 entries".into()));
    }
    let snap = st.snapshot.load();
    let items = body
        .items
        .iter()
        .map(|it| {
            // Empty strings are absent, as in a query string.
            let present = |x: &Option<String>| x.as_deref().filter(|x| !x.is_empty()).map(str::to_string);
            let resolution =
                checked_lookup(&it.slug, present(&it.owner_handle).as_deref(), present(&it.version).as_deref())
                    .map(|lookup| snap.resolve(&lookup));
            let (code, msg) = match resolution {
                Ok(Resolution::Served(s, v)) => {
                    return api::SecurityVerdict::Pass(api::SecurityVerdictPass {
                        decision: "pass".into(),
                        ok: true,
                        publisher_handle: s.owner.clone(),
                        reasons: vec![],
                        requested_slug: it.slug.clone(),
                        requested_version: it.version.clone(),
                        security: api::VerdictSecurity {
                            passed: true,
                            signals: api::VerdictSignals { static_scan: v.verdict.clone(), ..Default::default() },
                            status: "clean".into(),
                        },
                        security_audit_url: None,
                        skill_url: None,
                        slug: s.slug.clone(),
                        version: v.version.clone(),
                    });
                }
                Ok(Resolution::Refused(reason)) => ("blocked", reason),
                Ok(Resolution::Pending(reason)) => ("pending", reason),
                Ok(Resolution::Unavailable(reason)) => ("unavailable", reason),
                Ok(Resolution::Unknown(unknown)) => ("not_found", unknown_text(unknown).to_string()),
                Err(invalid) => ("invalid", invalid.to_string()),
            };
            api::SecurityVerdict::Fail(api::SecurityVerdictFail {
                decision: "fail".into(),
                error: api::VerdictError { code: code.into(), message: msg.clone() },
                ok: false,
                reasons: vec![msg],
                requested_slug: it.slug.clone(),
                requested_version: it.version.clone(),
                security: None,
            })
        })
        .collect();
    Ok(json_body(&api::SecurityVerdictsResponse { items, schema: api::SECURITY_VERDICTS_SCHEMA.into() }))
}
