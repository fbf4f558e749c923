//! The review UI under `/ui/`: server-rendered HTML (maud, which escapes every interpolated
//! value), no JavaScript, no external assets.
//!
//! - Sign-in takes an admin token in a POST form and opens a server-side session
//!   ([`session`]); the token itself is never stored, put in a URL or logged.
//! - Every page needs a live session: a GET without one is sent to `/ui/login`, a POST is
//!   refused (403). A session ends when the token that opened it is revoked.
//! - Every state-changing form carries the session's CSRF token, compared in constant time, and
//!   is refused when the browser says it comes from another site (`Sec-Fetch-Site`, `Origin`);
//!   the cookie is `SameSite=Strict` besides.
//! - Decisions go through [`super::admin::apply_decision`], the admin API's own path: the same
//!   rules (a reason, `override` for what the policy refuses), the same audit actor
//!   (`token:<name>`), the snapshot rebuilt before the answer.
//! - Every answer carries a strict Content-Security-Policy (no script at all, styles only from
//!   `/ui/style.css`), `nosniff`, `no-referrer` and `no-store`.
//!
//! Errors are the one mapping of [`ApiError`] (plain text with its status).

pub mod pages;
pub mod session;
pub mod view;

use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::Markup;
use serde::Deserialize;

use self::session::{COOKIE, Session};
use self::view::{FileView, QueueFilter, VersionPage};
use super::admin::{apply_decision, blocking};
use crate::archive::SkillArchive;
use crate::auth;
use crate::error::ApiError;
use crate::state::AppState;
use crate::validate;

/// The policy of every UI answer: nothing but the mirror's own stylesheet loads, no script
/// runs, forms post only to the mirror, no page can frame it.
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The stylesheet (`/ui/style.css`): the only asset, served by the mirror itself.
const STYLE: &str = include_str!("style.css");

pub fn router(_state: AppState) -> Router<AppState> {
    Router::new()
        .route("/ui", get(|| async { Redirect::to("/ui/") }))
        .route("/ui/", get(queue))
        .route("/ui/style.css", get(style))
        .route("/ui/login", get(login_page).post(login))
        .route("/ui/logout", post(logout))
        .route("/ui/versions/{slug}/{version}", get(version_page))
        .route("/ui/versions/{slug}/{version}/files/{*path}", get(file_page))
        .route("/ui/versions/{slug}/{version}/{action}", post(decide))
        .route("/ui/audit", get(audit))
        .route("/ui/alerts", get(alerts))
        .route("/ui/schedule", get(schedule))
        .layer(middleware::map_response(security_headers))
}

async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn html(markup: Markup) -> Response {
    let mut r = markup.into_string().into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    r
}

async fn style() -> Response {
    let mut r = STYLE.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8"));
    r
}

// ---------------------------------------------------------------- sessions

/// A signed-in reviewer: a live session whose admin token is still valid.
pub struct Reviewer {
    pub session_id: String,
    pub session: Session,
}

impl Reviewer {
    /// The audit actor of this reviewer's decisions: the same as the admin API's.
    pub fn actor(&self) -> String {
        format!("token:{}", self.session.token_name)
    }
}

/// The session id of the request's cookie, if any.
fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

impl FromRequestParts<AppState> for Reviewer {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let refuse = |method: &Method| {
            if method == Method::GET || method == Method::HEAD {
                Redirect::to("/ui/login").into_response()
            } else {
                ApiError::Forbidden("Sign in to the review UI first".into()).into_response()
            }
        };
        let Some(id) = session_cookie(&parts.headers).map(str::to_string) else {
            return Err(refuse(&parts.method));
        };
        let Some(session) = st.ui_sessions.touch(&id) else {
            return Err(refuse(&parts.method));
        };
        // Read from the store, not the snapshot: a revocation ends the session on the next request.
        let token = st.mirror.meta.find_token(&session.token_hash).ok().flatten();
        if !token.is_some_and(|t| !t.revoked && t.role == "admin") {
            st.ui_sessions.close_token(&session.token_hash);
            return Err(refuse(&parts.method));
        }
        Ok(Reviewer { session_id: id, session })
    }
}

/// Whether the browser says this request comes from another site: `Sec-Fetch-Site` other than
/// `same-origin`, or an `Origin` that is neither the `Host` asked for nor `public_url`'s.
///
/// `Origin: null` says nothing here: browsers send it for every form post from a page served with
/// `Referrer-Policy: no-referrer`, as the UI's own pages are. `Sec-Fetch-Site`, the session's CSRF
/// token and the `SameSite=Strict` cookie still stand against a cross-site post.
fn cross_site(headers: &HeaderMap, st: &AppState) -> bool {
    if let Some(site) = headers.get("sec-fetch-site")
        && site.as_bytes() != b"same-origin"
    {
        return true;
    }
    let Some(origin) = headers.get(header::ORIGIN).filter(|o| o.as_bytes() != b"null") else { return false };
    let origin = origin.to_str().unwrap_or("");
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    let own = !host.is_empty() && (origin == format!("http://{host}") || origin == format!("https://{host}"));
    let public = st.mirror.config.public_url.as_deref().is_some_and(|u| crate::redact::origin(u) == origin);
    !(own || public)
}

/// The checks of every state-changing form: same site, and this session's CSRF token.
fn check_form(headers: &HeaderMap, st: &AppState, reviewer: &Reviewer, csrf: &str) -> Result<(), ApiError> {
    if cross_site(headers, st) {
        return Err(ApiError::Forbidden("Cross-site form submission refused".into()));
    }
    if !reviewer.session.csrf_matches(csrf) {
        return Err(ApiError::Forbidden("Missing or wrong CSRF token: reload the page and try again".into()));
    }
    Ok(())
}

fn form<T>(form: Result<Form<T>, FormRejection>) -> Result<T, ApiError> {
    form.map(|Form(f)| f).map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge
        } else {
            ApiError::BadRequest("Invalid form".into())
        }
    })
}

fn cookie(st: &AppState, value: &str, max_age: Option<u32>) -> HeaderValue {
    let secure = if st.mirror.config.ui.secure_cookies { "; Secure" } else { "" };
    let max_age = max_age.map(|s| format!("; Max-Age={s}")).unwrap_or_default();
    HeaderValue::from_str(&format!("{COOKIE}={value}; Path=/ui; HttpOnly; SameSite=Strict{secure}{max_age}"))
        .unwrap_or_else(|_| HeaderValue::from_static("skillscan_session=; Path=/ui; Max-Age=0"))
}

fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

// ---------------------------------------------------------------- sign-in

async fn login_page() -> Response {
    html(pages::login(None))
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    token: String,
}

/// One answer for every refused token (unknown, `read`, revoked): nothing to learn from it.
const SIGN_IN_REFUSED: &str = "That is not a valid admin token.";

async fn login(
    State(st): State<AppState>,
    headers: HeaderMap,
    body: Result<Form<LoginForm>, FormRejection>,
) -> Result<Response, ApiError> {
    if cross_site(&headers, &st) {
        return Err(ApiError::Forbidden("Cross-site form submission refused".into()));
    }
    let body = form(body)?;
    let token_hash = auth::hash_token(body.token.trim());
    let (m, hash) = (st.mirror.clone(), token_hash.clone());
    let token = blocking(move || Ok(m.meta.find_token(&hash)?)).await?;
    let Some(token) = token.filter(|t| !t.revoked && t.role == "admin") else {
        let mut r = html(pages::login(Some(SIGN_IN_REFUSED)));
        *r.status_mut() = StatusCode::UNAUTHORIZED;
        return Ok(r);
    };
    let id = st.ui_sessions.open(&token_hash, &token.name).ok_or_else(|| ApiError::Internal("no randomness".into()))?;
    let mut r = see_other("/ui/");
    r.headers_mut().insert(header::SET_COOKIE, cookie(&st, &id, None));
    Ok(r)
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(
    reviewer: Reviewer,
    State(st): State<AppState>,
    headers: HeaderMap,
    body: Result<Form<CsrfForm>, FormRejection>,
) -> Result<Response, ApiError> {
    let body = form(body)?;
    check_form(&headers, &st, &reviewer, &body.csrf)?;
    st.ui_sessions.close(&reviewer.session_id);
    let mut r = see_other("/ui/login");
    r.headers_mut().insert(header::SET_COOKIE, cookie(&st, "", Some(0)));
    Ok(r)
}

// ---------------------------------------------------------------- pages

async fn queue(
    reviewer: Reviewer,
    State(st): State<AppState>,
    Query(filter): Query<QueueFilter>,
) -> Result<Response, ApiError> {
    let query = filter.parse().map_err(ApiError::BadRequest)?;
    let m = st.mirror.clone();
    let rows = blocking(move || Ok(m.meta.versions(None)?)).await?;
    let items = view::queue(rows, &query);
    Ok(html(pages::queue(&reviewer.session, &query, &items)))
}

async fn version_page(
    reviewer: Reviewer,
    State(st): State<AppState>,
    Path((slug, version)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    validate::slug(&slug)?;
    validate::version(&version)?;
    let m = st.mirror.clone();
    let page = blocking(move || {
        let rec = m.get(&slug, &version)?;
        let review = m.review(&slug, &version)?;
        let archive =
            m.blobs.get(&rec.archive_sha256).ok().and_then(|zip| SkillArchive::read(&zip, &m.archive_limits()).ok());
        let objection = m.policy_objection(&rec);
        Ok(VersionPage::new(rec, review, archive.as_ref(), objection))
    })
    .await?;
    Ok(html(pages::version(&reviewer.session, &page)))
}

async fn file_page(
    reviewer: Reviewer,
    State(st): State<AppState>,
    Path((slug, version, path)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    validate::slug(&slug)?;
    validate::version(&version)?;
    validate::file_path(&path)?;
    let m = st.mirror.clone();
    let file = blocking(move || {
        let rec = m.get(&slug, &version)?;
        // Only a path the archive lists: the listing was validated when the version was pinned.
        if !rec.files.iter().any(|f| f.path == path) {
            return Err(ApiError::NotFound("File not found"));
        }
        let zip = m.blobs.get(&rec.archive_sha256)?;
        let archive = SkillArchive::read(&zip, &m.archive_limits())
            .map_err(|e| ApiError::Internal(format!("stored archive of {} unreadable: {e}", rec.key())))?;
        let bytes = archive.files.get(&path).ok_or(ApiError::NotFound("File not found"))?;
        Ok(FileView::new(&rec, &path, bytes))
    })
    .await?;
    Ok(html(pages::file(&reviewer.session, &file)))
}

#[derive(Deserialize)]
struct DecisionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
    /// A checkbox: present (any value) to approve what the policy refuses.
    #[serde(default, rename = "override")]
    override_policy: Option<String>,
}

async fn decide(
    reviewer: Reviewer,
    State(st): State<AppState>,
    headers: HeaderMap,
    Path((slug, version, action)): Path<(String, String, String)>,
    body: Result<Form<DecisionForm>, FormRejection>,
) -> Result<Response, ApiError> {
    let body = form(body)?;
    check_form(&headers, &st, &reviewer, &body.csrf)?;
    let rec =
        apply_decision(&st, slug, version, &action, body.reason, reviewer.actor(), body.override_policy.is_some())
            .await?;
    Ok(see_other(&view::version_url(&rec.slug, &rec.version)))
}

/// The most audit entries the audit page shows: the newest.
const AUDIT_PAGE_ITEMS: usize = 500;

async fn audit(reviewer: Reviewer, State(st): State<AppState>) -> Result<Response, ApiError> {
    let m = st.mirror.clone();
    let events = blocking(move || Ok(m.meta.audit(Some(AUDIT_PAGE_ITEMS))?)).await?;
    Ok(html(pages::audit(&reviewer.session, &events)))
}

async fn alerts(reviewer: Reviewer, State(st): State<AppState>) -> Result<Response, ApiError> {
    let m = st.mirror.clone();
    let (alerts, faults, failures) =
        blocking(move || Ok((m.meta.alerts()?, m.meta.blob_faults()?, m.meta.sync_failures(200)?))).await?;
    Ok(html(pages::alerts(&reviewer.session, &alerts, &faults, &failures)))
}

async fn schedule(reviewer: Reviewer, State(st): State<AppState>) -> Response {
    let plan = crate::schedule::Plan::of(&st.mirror.config);
    html(pages::schedule(&reviewer.session, &plan, &st.schedule_runs.newest_first()))
}
