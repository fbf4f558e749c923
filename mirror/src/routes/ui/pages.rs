//! The pages, as maud templates. maud escapes every `(value)` it interpolates, in text and in
//! attributes; nothing here uses `PreEscaped`, so no stored text (names, paths, file contents,
//! findings, reasons: all attacker-controlled) can become markup.

use maud::{DOCTYPE, Markup, html};

use super::session::Session;
use super::view::{
    FileContent, FileView, QueueItem, QueueQuery, SortBy, StateFilter, VERDICTS, VerdictFilter, VersionPage, age,
    file_url, version_url, when,
};
use crate::model::{AuditEvent, BlobFault, IntegrityAlert, State, SyncFailure};
use crate::policy::HoldReason;
use crate::schedule::{Plan, Run};
use crate::service::caps_lines;

/// The frame of every page: the stylesheet, the navigation, who is signed in.
fn layout(session: Option<&Session>, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · skillscan mirror review" }
                link rel="stylesheet" href="/ui/style.css";
            }
            body {
                header {
                    strong { "skillscan mirror" }
                    @if let Some(s) = session {
                        nav {
                            a href="/ui/" { "Queue" }
                            a href="/ui/?state=all" { "All versions" }
                            a href="/ui/audit" { "Audit log" }
                            a href="/ui/alerts" { "Alerts" }
                            a href="/ui/schedule" { "Schedule" }
                        }
                        form.signout method="post" action="/ui/logout" {
                            input type="hidden" name="csrf" value=(s.csrf);
                            span { "Signed in as " code { (s.token_name) } }
                            button type="submit" { "Sign out" }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

pub fn login(error: Option<&str>) -> Markup {
    layout(
        None,
        "Sign in",
        html! {
            h1 { "Sign in" }
            p { "Paste an admin token (" code { "skillscan-mirror token create --name NAME --role admin" } "). "
                "Your decisions are recorded under the token's name." }
            @if let Some(e) = error { p.error role="alert" { (e) } }
            form method="post" action="/ui/login" {
                label for="token" { "Admin token" }
                input #token type="password" name="token" autocomplete="off" required;
                button type="submit" { "Sign in" }
            }
        },
    )
}

fn verdict_badge(v: Option<crate::vetting::Verdict>) -> Markup {
    let text = v.map_or("none", |v| v.as_str());
    html! { span class={ "badge verdict-" (text) } { (text) } }
}

fn state_badge(s: State) -> Markup {
    html! { span class={ "badge state-" (s.as_str()) } { (s.as_str()) } }
}

fn selected_if(cond: bool) -> Option<&'static str> {
    cond.then_some("selected")
}

pub fn queue(session: &Session, q: &QueueQuery, items: &[QueueItem]) -> Markup {
    let state_value = match q.state {
        StateFilter::Pending => "pending".to_string(),
        StateFilter::All => "all".to_string(),
        StateFilter::One(s) => s.as_str().to_string(),
    };
    layout(
        Some(session),
        "Review queue",
        html! {
            h1 { "Review queue" }
            form.filters method="get" action="/ui/" {
                label { "State "
                    select name="state" {
                        @for s in ["pending", "all"].into_iter().chain(State::ALL.iter().map(|s| s.as_str())) {
                            option value=(s) selected=[selected_if(state_value == s)] { (s) }
                        }
                    }
                }
                label { "Verdict "
                    select name="verdict" {
                        option value="" { "any" }
                        @for v in VERDICTS {
                            option value=(v.as_str()) selected=[selected_if(q.verdict == Some(VerdictFilter::One(v)))] { (v.as_str()) }
                        }
                        option value="none" selected=[selected_if(q.verdict == Some(VerdictFilter::None))] { "none" }
                    }
                }
                label { "Held because "
                    select name="reason" {
                        option value="" { "any" }
                        @for r in HoldReason::ALL {
                            option value=(r.as_str()) selected=[selected_if(q.reason == Some(r))] { (r.as_str()) }
                        }
                    }
                }
                label { "Sort by "
                    select name="sort" {
                        @for s in SortBy::ALL {
                            option value=(s.as_str()) selected=[selected_if(q.sort == s)] { (s.as_str()) }
                        }
                    }
                }
                button type="submit" { "Apply" }
            }
            @if items.is_empty() {
                p.empty { "Nothing to review." }
            } @else {
                table.queue {
                    thead { tr {
                        th { "Skill" } th { "Version" } th { "Owner" } th { "State" } th { "Age" }
                        th { "Verdict" } th { "Top findings" } th { "Why held (or decided)" }
                    } }
                    tbody {
                        @for i in items {
                            tr {
                                td { a href=(version_url(&i.rec.slug, &i.rec.version)) { (i.rec.slug) } }
                                td { (i.rec.version) }
                                td { (i.rec.owner.as_deref().unwrap_or("-")) }
                                td { (state_badge(i.rec.state)) }
                                td title=(when(i.rec.fetched_at)) { (age(i.rec.fetched_at)) }
                                td { (verdict_badge(i.rec.verdict)) }
                                td {
                                    @if i.top_findings.is_empty() { span.muted { "none" } }
                                    ul.compact {
                                        @for f in &i.top_findings {
                                            li { span class={ "sev sev-" (f.severity) } { (f.severity) } " " code { (f.rule_id) } " " (f.file) ":" (f.line) }
                                        }
                                    }
                                    @if i.findings > i.top_findings.len() { span.muted { "+" (i.findings - i.top_findings.len()) " more" } }
                                }
                                td {
                                    @if i.rec.state.is_pending() { span class={ "badge hold-" (i.hold.as_str()) } { (i.hold.as_str()) } }
                                    div.reason { (i.rec.state_reason) }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

pub fn version(session: &Session, page: &VersionPage) -> Markup {
    let rec = &page.rec;
    let title = rec.key();
    layout(
        Some(session),
        &title,
        html! {
            h1 { (rec.slug) " " span.muted { "@" (rec.version) } }
            dl.facts {
                dt { "State" } dd { (state_badge(rec.state)) " " (rec.state_reason) }
                dt { "Verdict" } dd { (verdict_badge(rec.verdict)) " rules " (rec.rules_version.as_deref().unwrap_or("-")) }
                dt { "Owner" } dd { (rec.owner.as_deref().unwrap_or("-")) }
                dt { "Name" } dd { (rec.display_name) }
                @if let Some(s) = &rec.summary { dt { "Summary" } dd { (s) } }
                dt { "Published" } dd { (when(rec.published_at)) " (" (age(rec.published_at)) " ago)" }
                dt { "Fetched" } dd { (when(rec.fetched_at)) " from " (rec.source) }
                dt { "Archive" } dd { code { "sha256:" (rec.archive_sha256) } " " (rec.archive_size) " bytes" }
                dt { "Signed" } dd { (if rec.signature.is_some() { "yes" } else { "no" }) }
            }
            (decisions(session, page))
            h2 { "Findings (" (page.findings.len()) ")" }
            @if page.findings.is_empty() { p.muted { "The scanner reported no finding." } }
            @for (n, fv) in page.findings.iter().enumerate() {
                @let f = &fv.finding;
                section.finding id={ "finding-" (n + 1) } {
                    h3 {
                        span class={ "sev sev-" (f.severity) } { (f.severity) } " "
                        code.rule { (f.rule_id) } " "
                        a href={ (file_url(&rec.slug, &rec.version, &f.file)) "#L" (f.line) } { (f.location()) }
                        @if let Some(s) = &f.suppressed { " " span.muted { "suppressed (" (s.kind) "): " (s.reason) } }
                    }
                    p { (f.message) }
                    @if !f.snippet.is_empty() { p { "Matched: " code.snippet { (f.snippet) } } }
                    @if let Some(d) = &f.decoded {
                        p { "Decoded (" (d.chain.join(" → ")) "): " code.snippet { (d.text) } }
                    }
                    @if !fv.context.is_empty() {
                        pre.src {
                            @for (line, text) in &fv.context {
                                span class=[(*line == f.line as usize).then_some("hit")] {
                                    span.ln { (line) } " " (text) "\n"
                                }
                            }
                        }
                    }
                }
            }
            h2 { "Capabilities" }
            @match &rec.capabilities {
                Some(c) => ul { @for l in caps_lines(c) { li { (l) } } },
                None => p.muted { "No capability manifest (not scanned)." },
            }
            (review(page))
            h2 { "Files (" (rec.files.len()) ")" }
            table.files {
                thead { tr { th { "Path" } th { "Size" } th { "Type" } th { "sha256" } } }
                tbody {
                    @for f in &rec.files {
                        tr {
                            td { a href=(file_url(&rec.slug, &rec.version, &f.path)) { (f.path) } }
                            td.num { (f.size) }
                            td { (f.content_type) }
                            td { code.hash { (f.sha256) } }
                        }
                    }
                }
            }
        },
    )
}

/// The decision forms the state allows; approving over a policy objection needs the override box.
fn decisions(session: &Session, page: &VersionPage) -> Markup {
    let rec = &page.rec;
    let actions = page.actions();
    html! {
        @if actions.is_empty() {
            p.muted { "No decision applies to a version in state " (rec.state.as_str()) "." }
        } @else {
            section.decide {
                h2 { "Decision" }
                @if let Some(why) = &page.objection {
                    p.objection { "The policy refuses this version: " (why) ". Approving it needs the override." }
                }
                @for action in actions {
                    form method="post" action={ (version_url(&rec.slug, &rec.version)) "/" (action) } {
                        input type="hidden" name="csrf" value=(session.csrf);
                        label { (action) " reason "
                            input type="text" name="reason" required maxlength="2000" placeholder="why (recorded in the audit log)";
                        }
                        @if action == "approve" && page.objection.is_some() {
                            label.override { input type="checkbox" name="override" value="1"; " override the policy" }
                        }
                        button type="submit" class={ "action-" (action) } name="action" value=(action) { (action) }
                    }
                }
            }
        }
    }
}

/// The update review: what changed since the last approved version.
fn review(page: &VersionPage) -> Markup {
    let rv = &page.review;
    let delta = rv.capability_delta.lines();
    html! {
        h2 { "Changes since the last approved version" }
        @match &rv.base_version {
            None => p.muted { "No earlier approved version of " (rv.slug) ": this is a first review." },
            Some(base) => {
                p { "Compared with approved " a href=(version_url(&rv.slug, base)) { (rv.slug) "@" (base) } "." }
                @if delta.is_empty() {
                    p { "Capability delta: none (no new capability)." }
                } @else {
                    div.delta {
                        strong { "New capabilities:" }
                        ul { @for l in &delta { li { (l) } } }
                    }
                }
                ul.changes {
                    @for p in &rv.files_added { li.added { "+ " (p) } }
                    @for p in &rv.files_removed { li.removed { "- " (p) } }
                    @for p in &rv.files_changed { li.changed { "~ " (p) } }
                }
                @for (path, diff) in &rv.text_diffs {
                    h3 { code { (path) } }
                    pre.diff {
                        @for line in diff.lines() {
                            @let class = if line.starts_with("+++") || line.starts_with("---") { "meta" }
                                else if line.starts_with('+') { "add" }
                                else if line.starts_with('-') { "del" }
                                else if line.starts_with("@@") { "hunk" }
                                else { "ctx" };
                            span class=(class) { (line) "\n" }
                        }
                    }
                }
            }
        }
    }
}

pub fn file(session: &Session, f: &FileView) -> Markup {
    layout(
        Some(session),
        &f.path,
        html! {
            p { a href=(version_url(&f.slug, &f.version)) { "← " (f.slug) "@" (f.version) } }
            h1 { code { (f.path) } }
            p.muted { (f.size) " bytes" }
            @match &f.content {
                FileContent::Text { text, truncated } => {
                    pre.src {
                        @for (n, line) in text.lines().enumerate() {
                            @let n = n + 1;
                            span id={ "L" (n) } class=[f.finding_lines.contains(&(n as u32)).then_some("hit")] {
                                span.ln { (n) } " " (line) "\n"
                            }
                        }
                    }
                    @if *truncated { p.note { "Cut at " (super::view::MAX_SHOWN_BYTES) " bytes of " (f.size) "." } }
                }
                FileContent::Binary { kind } => {
                    p.note { "Binary file, not shown: " (kind) "." }
                }
            }
        },
    )
}

pub fn audit(session: &Session, events: &[AuditEvent]) -> Markup {
    layout(
        Some(session),
        "Audit log",
        html! {
            h1 { "Audit log" }
            p.muted { "Newest first; decisions from this UI and the admin API read " code { "token:<name>" } "." }
            table.audit {
                thead { tr { th { "When" } th { "Actor" } th { "Action" } th { "Version" } th { "From → to" } th { "Reason" } } }
                tbody {
                    @for e in events {
                        tr {
                            td { (when(e.at)) }
                            td { code { (e.actor) } }
                            td { (e.action) }
                            td { a href=(version_url(&e.slug, &e.version)) { (e.slug) "@" (e.version) } }
                            td { (e.from_state.as_deref().unwrap_or("-")) " → " (e.to_state.as_deref().unwrap_or("-")) }
                            td { (e.reason) }
                        }
                    }
                }
            }
        },
    )
}

pub fn alerts(session: &Session, alerts: &[IntegrityAlert], faults: &[BlobFault], failures: &[SyncFailure]) -> Markup {
    layout(
        Some(session),
        "Alerts",
        html! {
            h1 { "Integrity alerts" }
            @if alerts.is_empty() { p.muted { "None." } }
            @else {
                table {
                    thead { tr { th { "When" } th { "Kind" } th { "Version" } th { "Pinned" } th { "Observed" } th { "Detail" } } }
                    tbody {
                        @for a in alerts {
                            tr {
                                td { (when(a.at)) } td { (a.kind) } td { (a.slug) "@" (a.version) }
                                td { code.hash { (a.pinned_sha256) } } td { code.hash { (a.observed_sha256) } } td { (a.detail) }
                            }
                        }
                    }
                }
            }
            h2 { "Open blob faults" }
            @if faults.is_empty() { p.muted { "None." } }
            @else {
                ul { @for f in faults { li { (when(f.at)) " " (f.slug) "@" (f.version) ": " (f.detail) } } }
            }
            h2 { "Recent sync failures" }
            @if failures.is_empty() { p.muted { "None." } }
            @else {
                table {
                    thead { tr { th { "When" } th { "Skill" } th { "Version" } th { "Error" } } }
                    tbody {
                        @for f in failures {
                            tr { td { (when(f.at)) } td { (f.slug) } td { (f.version.as_deref().unwrap_or("-")) } td { (f.error) } }
                        }
                    }
                }
            }
        },
    )
}

pub fn schedule(session: &Session, plan: &Plan, runs: &[Run]) -> Markup {
    layout(
        Some(session),
        "Schedule",
        html! {
            h1 { "Scheduled runs" }
            ul {
                li { "Sync: " @match plan.sync_every {
                    Some(every) => { "every " (every.as_secs()) " s from " (plan.upstream.as_deref().map(crate::redact::origin).unwrap_or_default())
                        (if plan.sync_all { " (all upstream skills)" } else { " (the skills the mirror knows)" }) },
                    None => "off",
                } }
                li { "Rescan when the rules change: " (if plan.rescan_on_rules_change { "on" } else { "off" }) }
            }
            p.muted { "The last runs since this server started (kept in memory; the audit log keeps their decisions)." }
            @if runs.is_empty() { p.muted { "No run yet." } }
            @else {
                table {
                    thead { tr { th { "Job" } th { "Started" } th { "Took" } th { "Result" } th { "Summary" } } }
                    tbody {
                        @for r in runs {
                            tr {
                                td { (r.job.as_str()) }
                                td { (when(r.started_at)) }
                                td { (r.finished_at.saturating_sub(r.started_at)) " ms" }
                                td { span class={ "badge " (if r.ok { "ok" } else { "failed" }) } { (if r.ok { "ok" } else { "failed" }) } }
                                td { (r.summary) }
                            }
                        }
                    }
                }
            }
        },
    )
}
