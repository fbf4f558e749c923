//! Dataflow findings from the behaviour model of the skill's code ([`crate::engine::behaviour::code`]):
//! where secrets go, which hosts the code talks to through variables, which downloaded files it
//! runs and which decoded or downloaded data it executes.
//!
//! Whether a flow is theft depends on where it ends, judged once here:
//! - a secret sent to its own service (`GITHUB_TOKEN` to api.github.com, `ACME_API_KEY` to
//!   api.acme.example) is the secret being used: nothing;
//! - a secret sent to a request collector, paste site, tunnel, file host, messaging webhook or
//!   raw IP address, through DNS names or a raw socket, or a credential store or the whole
//!   environment sent anywhere: `credential-dataflow` (critical);
//! - several services' secrets in one request: `multi-service-key-forwarding` (critical);
//! - a known service's secret sent to a host that is neither that service's nor one the skill
//!   vouches for: `credential-dataflow` (critical); to the skill's own vouched host:
//!   `secret-to-skill-host` (medium: a broker holds your key);
//! - a secret of a service the table does not know, sent to a host that neither carries its
//!   name nor is vouched for: `secret-to-unrelated-host` (high; medium for names that say
//!   nothing about their owner, such as `API_KEY`);
//! - the user's files, listed in bulk and read, sent to a host that is neither a service of the
//!   table nor vouched for: `workspace-upload` (high; critical like any secret to a hostile host).

use std::collections::BTreeSet;

use super::{Emitter, SkillInput};
use crate::engine::analysis::{FileAnalysis, SegmentBody};
use crate::engine::behaviour::code::{self, CodeFacts, Flow, SinkFunction};
use crate::engine::behaviour::secrets::{Owner, SecretKind};
use crate::engine::corroborate::Corroboration;
use crate::engine::finding::{RelatedLocation, Severity};
use crate::engine::hit::HitLocation;
use crate::engine::lang::Lang;
use crate::engine::rules::RuleSet;
use crate::engine::text::escape_snippet;
use crate::engine::urls;

pub const RULES: &[&str] = &[
    "credential-dataflow",
    "secret-to-unrelated-host",
    "secret-to-skill-host",
    "workspace-upload",
    "network-endpoint",
    "multi-service-key-forwarding",
    "fetched-file-executed",
    "dynamic-code-exec",
    "downloaded-code-executed",
    "agent-file-write",
];

/// Lists of hosts that receive data for whoever sends it.
const HOSTILE_LISTS: &[&str] =
    &["webhook-collectors", "paste-sites", "tunnels", "file-sharing", "url-shorteners", "messaging-webhooks"];

/// Code worth a syntax tree for this analysis (most code reads no secret and calls no URL).
pub fn has_source(code: &str) -> bool {
    code::worth_a_tree(code)
}

/// Files this large are vendored bundles; following values through them finds only noise.
pub fn too_large(file: &FileAnalysis) -> bool {
    file.text().len() > 256 * 1024 || has_line_longer_than(file.text(), 2000)
}

/// `text.lines().any(|l| l.len() > limit)`, with `memchr` finding the line ends: every file
/// is checked (twice), and `lines()` is several times slower at it.
fn has_line_longer_than(text: &str, limit: usize) -> bool {
    let bytes = text.as_bytes();
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', bytes) {
        // `lines()` drops the `\r` of a `\r\n` ending.
        let line = &bytes[start..end];
        if line.strip_suffix(b"\r").unwrap_or(line).len() > limit {
            return true;
        }
        start = end + 1;
    }
    // The last line has no ending to drop (a lone `\r` there stays).
    bytes.len() - start > limit
}

struct Analysed<'f> {
    file: usize,
    analysis: &'f FileAnalysis,
    /// The code segment's start in the file.
    base: usize,
    facts: CodeFacts,
}

pub fn dataflow(input: &SkillInput<'_>, out: &mut Emitter<'_>) {
    let services = &input.rules.services;
    // Two passes: the first finds the skill's own sending helpers, the second follows calls to
    // them from every file. What the names of each piece of code hold does not depend on the
    // helpers of other files: it is worked out once, between the passes only the calls are
    // judged again.
    let mut collected = Vec::new();
    for (index, file) in input.files.iter().enumerate() {
        if too_large(file) {
            continue;
        }
        for tree in &file.trees {
            let Some(segment) = file.segments.get(tree.segment) else { continue };
            let SegmentBody::Range(range) = &segment.body else { continue };
            let code_text = file.text().get(range.clone()).unwrap_or("");
            collected.push((index, tree, range.clone(), code::collect_tree(tree.lang, &tree.tree, code_text)));
        }
    }
    let models: Vec<(usize, usize, &str, code::Model<'_>)> = collected
        .iter()
        .map(|(index, tree, range, calls)| {
            let code_text = input.files[*index].text().get(range.clone()).unwrap_or("");
            (*index, range.start, code_text, code::Model::new(tree.lang, calls, code_text, services))
        })
        .collect();
    let helpers: Vec<&SinkFunction> = models.iter().flat_map(|(_, _, _, model)| model.sink_functions()).collect();
    let mut analysed = Vec::new();
    for (index, base, code_text, model) in &models {
        let file = &input.files[*index];
        let foreign: Vec<SinkFunction> = helpers
            .iter()
            .filter(|h| !model.sink_functions().iter().any(|own| own.name == h.name) && code_text.contains(&h.name))
            .map(|h| (*h).clone())
            .collect();
        analysed.push(Analysed { file: *index, analysis: file, base: *base, facts: model.facts(&foreign) });
    }
    if analysed.is_empty() {
        return;
    }
    let vouched = input.vouched();
    for a in &analysed {
        // Only a listing of the user's files asks whether the code reads file contents.
        let lists_files =
            a.facts.flows.iter().any(|f| f.sources.iter().any(|s| s.secret.kind == SecretKind::Workspace));
        let reads_files = lists_files && code::reads_file_contents(a.analysis.text());
        for flow in &a.facts.flows {
            judge_flow(a, flow, vouched, input.rules, reads_files, out);
        }
        emit_endpoints(a, out);
        for write in &a.facts.agent_file_writes {
            let location =
                HitLocation::File { file: a.file, range: Some(a.base + write.call.start..a.base + write.call.end) };
            if let Some(hit) = out.emit("agent-file-write", location, None) {
                hit.captures.push(("value".to_string(), write.file.clone()));
            }
        }
        for run in &a.facts.fetched_runs {
            let location =
                HitLocation::File { file: a.file, range: Some(a.base + run.run.start..a.base + run.run.end) };
            let detail =
                format!("`{}` is downloaded from {} and then run", escape_snippet(&run.file, 80), host_of(&run.url));
            if let Some(hit) = out.emit("fetched-file-executed", location, Some(detail)) {
                hit.captures.push(("url".to_string(), run.url.clone()));
                hit.related.push(related(a, run.download.clone(), "download"));
            }
        }
        for exec in &a.facts.dynamic_execs {
            let location =
                HitLocation::File { file: a.file, range: Some(a.base + exec.call.start..a.base + exec.call.end) };
            let detail = format!("`{}` runs {} data", escape_snippet(&exec.callee, 60), exec.what);
            if let Some(hit) = out.emit("dynamic-code-exec", location.clone(), Some(detail)) {
                hit.related.push(related(a, exec.origin.clone(), exec.what));
            }
            // Code that comes from the network is also remote code execution, whatever decoding
            // it passes through on the way.
            if exec.what.contains("downloaded") {
                let detail = format!("`{}` runs {} data", escape_snippet(&exec.callee, 60), exec.what);
                if let Some(hit) = out.emit("downloaded-code-executed", location, Some(detail)) {
                    hit.related.push(related(a, exec.origin.clone(), "download"));
                }
            }
        }
    }
}

fn host_of(url: &str) -> String {
    urls::host_and_path(url).map_or_else(|| escape_snippet(url, 80), |(h, _)| h)
}

fn related(a: &Analysed<'_>, range: std::ops::Range<usize>, message: &str) -> RelatedLocation {
    let text = a.analysis.text();
    let start = a.base + range.start;
    let (line, column) = a.analysis.lines.line_col(text, start);
    RelatedLocation {
        file: a.analysis.path.clone(),
        line,
        column,
        message: message.to_string(),
        snippet: escape_snippet(text.get(start..a.base + range.end).unwrap_or(""), 160),
    }
}

/// Hosts the code reaches through variables, for the capability manifest (literal URLs are
/// already recorded by the network rules).
fn emit_endpoints(a: &Analysed<'_>, out: &mut Emitter<'_>) {
    let mut seen = BTreeSet::new();
    for endpoint in a.facts.endpoints.iter().filter(|e| e.through_variable) {
        if !seen.insert(endpoint.host.clone()) {
            continue;
        }
        let location =
            HitLocation::File { file: a.file, range: Some(a.base + endpoint.call.start..a.base + endpoint.call.end) };
        if let Some(hit) = out.emit("network-endpoint", location, None) {
            hit.captures.push(("url".to_string(), endpoint.url.clone()));
        }
    }
}

enum Verdict {
    Theft(String),
    /// The user's files, read in bulk, go to a host that is neither a known service nor the skill's.
    Harvest(String),
    SeveralServices(String),
    Unrelated(String, Severity),
    Broker(String),
    Fine,
}

fn judge(flow: &Flow, vouched: &Corroboration, rules: &RuleSet, reads_files: bool) -> Verdict {
    let services = &rules.services;
    let lists = &rules.lists;
    let host = flow.host.as_deref();
    // A secret sent to its own service is being used, whatever else that service is (a paste
    // site's own API key to the paste site, a bot token to its messenger).
    let own = |s: &code::SourceRef| host.is_some_and(|h| s.secret.owner.owns(h, services));
    // Alternatives (`OPENAI_KEY || ELEVEN_KEY`, the branches of a key-choosing function) are
    // one value: when one of them is the destination's own key, that is the one being sent.
    let chosen: BTreeSet<usize> = flow.sources.iter().filter(|s| own(s)).filter_map(|s| s.alternative).collect();
    // A listing of the user's files whose contents the code never reads sends names, not work.
    let foreign: Vec<&code::SourceRef> = flow
        .sources
        .iter()
        .filter(|s| !own(s) && !s.alternative.is_some_and(|a| chosen.contains(&a)))
        .filter(|s| reads_files || s.secret.kind != SecretKind::Workspace)
        .collect();
    if foreign.is_empty() {
        return Verdict::Fine;
    }
    let hostile = host.and_then(|h| {
        if urls::is_ip(h) && !is_private_ip(h) {
            return Some("a raw IP address".to_string());
        }
        // The path decides for hosts listed by path (a chat service's webhook route).
        let path = flow.url.as_deref().and_then(urls::host_and_path).map(|(_, p)| p).unwrap_or_default();
        lists.which(HOSTILE_LISTS, h, &path).map(|l| format!("a host on the {l} list"))
    });
    if let Some(why) = hostile {
        return Verdict::Theft(format!("to {why}"));
    }
    if flow.channel.is_covert() {
        return Verdict::Theft(format!("through {}", flow.channel.as_str()));
    }
    // The user's own machine or network (a local service) is not elsewhere.
    if host.is_some_and(|h| h == "localhost" || (urls::is_ip(h) && is_private_ip(h))) {
        return Verdict::Fine;
    }
    // Several *services*: the table's, not words of variable names (`BUY_`, `SELL_`).
    let keyed: Vec<&code::SourceRef> = foreign
        .iter()
        .copied()
        .filter(|s| s.secret.kind == SecretKind::EnvVar && matches!(s.secret.owner, Owner::Service(_)))
        .collect();
    let owners: BTreeSet<&Owner> = keyed.iter().map(|s| &s.secret.owner).collect();
    // Alternatives (`OPENAI_KEY || ANTHROPIC_KEY`) fill one slot of the request: the value is
    // one key or the other.
    let slots: BTreeSet<usize> =
        keyed.iter().enumerate().map(|(i, s)| s.alternative.unwrap_or(usize::MAX - i)).collect();
    if owners.len() >= 2 && slots.len() >= 2 {
        let names: Vec<String> = owners
            .iter()
            .map(|o| match o {
                Owner::Service(s) | Owner::Named(s) => s.clone(),
                Owner::Unknown => String::new(),
            })
            .collect();
        return Verdict::SeveralServices(format!("secrets of {} in one request", names.join(", ")));
    }
    let url = flow.url.as_deref().unwrap_or("");
    let skill_host = !url.is_empty() && vouched.vouches_for(url, lists);
    for source in foreign {
        let secret = &source.secret;
        match secret.kind {
            // The user's files go where the user sends them on purpose: a service of the table
            // (a code-review model, a repository host) or the host the skill's front matter
            // declares as its own (a prose link repeated or a look-alike name is not enough).
            SecretKind::Workspace => {
                let Some(h) = host else { continue };
                if !vouched.declares(url, &rules.lists) && services.by_host(h).is_none() {
                    return Verdict::Harvest(format!(
                        "the user's files (`{}`), read in bulk, go to {h}",
                        escape_snippet(&secret.name, 60)
                    ));
                }
            }
            // A credential store, the whole environment or the clipboard has no business leaving
            // except to its own service.
            // The agent's per-agent auth profiles hold the model providers' tokens: sent to a
            // service of the table it is the agent's own login being used, still worth a look.
            SecretKind::CredentialFile
                if is_agent_auth_profile(&secret.name)
                    && host.and_then(|h| services.by_host(h)).is_some()
                    && !skill_host =>
            {
                let service = host.and_then(|h| services.by_host(h)).map_or("", |s| s.name.as_str());
                return Verdict::Unrelated(
                    format!("the agent's stored logins (`{}`) go to {service}", escape_snippet(&secret.name, 60)),
                    Severity::Medium,
                );
            }
            SecretKind::CredentialFile | SecretKind::Environment | SecretKind::Clipboard
                if !secret.owner.is_known() =>
            {
                return Verdict::Theft(format!("`{}` leaves the machine", escape_snippet(&secret.name, 60)));
            }
            // A credential file of a known service (the skill's own entry in the agent's
            // store, `~/.config/gh/hosts.yml`) is judged like that service's key.
            SecretKind::CredentialFile | SecretKind::Environment | SecretKind::Clipboard | SecretKind::EnvVar => {
                let Some(h) = host else { continue };
                match &secret.owner {
                    Owner::Service(service) if skill_host => {
                        return Verdict::Broker(format!(
                            "{} goes to the skill's own host, not to {service}",
                            secret.name
                        ));
                    }
                    Owner::Service(service) => {
                        return Verdict::Theft(format!("{} belongs to {service}, not to {h}", secret.name));
                    }
                    // A vendor the service table does not know: the host may be its API under
                    // another name (a product and its parent company's domain), so the flow is
                    // shown, not called theft. Known services, credential stores, hostile hosts,
                    // raw addresses and covert channels are judged above.
                    Owner::Named(word) if !skill_host => {
                        return Verdict::Unrelated(
                            format!("{} (a {} secret) goes to {h}", secret.name, word.replace('_', "/")),
                            Severity::Medium,
                        );
                    }
                    Owner::Unknown if !skill_host => {
                        return Verdict::Unrelated(format!("{} goes to {h}", secret.name), Severity::Medium);
                    }
                    _ => {}
                }
            }
        }
    }
    Verdict::Fine
}

fn is_agent_auth_profile(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    ["openclaw/agents", "clawdbot/agents", "moltbot/agents"].iter().any(|store| lower.contains(store))
}

fn is_private_ip(host: &str) -> bool {
    match host.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => ip.is_private() || ip.is_loopback() || ip.is_link_local(),
        Ok(std::net::IpAddr::V6(ip)) => ip.is_loopback(),
        Err(_) => false,
    }
}

fn judge_flow(
    a: &Analysed<'_>,
    flow: &Flow,
    vouched: &Corroboration,
    rules: &RuleSet,
    reads_files: bool,
    out: &mut Emitter<'_>,
) {
    // A request to a documentation host shows how to call an API: nobody receives what goes
    // to `example.com`, and `your-server.com` in a Markdown example is the reader's own. In a
    // script only the reserved names count; any other "placeholder" there is a real host.
    let placeholder = flow.host.as_deref().is_some_and(|h| {
        urls::is_reserved_example_host(h) || (a.analysis.lang == Lang::Markdown && urls::is_placeholder_host(h))
    });
    let verdict = match judge(flow, vouched, rules, reads_files) {
        Verdict::Theft(why) | Verdict::SeveralServices(why) | Verdict::Unrelated(why, _) | Verdict::Harvest(why)
            if placeholder =>
        {
            Verdict::Unrelated(format!("{why} (a placeholder host of an example)"), Severity::Medium)
        }
        verdict => verdict,
    };
    let (rule, why, severity) = match verdict {
        Verdict::Fine => return,
        Verdict::Theft(why) => ("credential-dataflow", why, None),
        Verdict::Harvest(why) => ("workspace-upload", why, None),
        // Both: the request mishandles several services' credentials (B14) and takes them
        // where at least one of them does not belong (B5).
        Verdict::SeveralServices(why) => {
            emit_flow(a, flow, "credential-dataflow", &why, None, out);
            ("multi-service-key-forwarding", why, None)
        }
        Verdict::Unrelated(why, severity) => {
            ("secret-to-unrelated-host", why, (severity != Severity::High).then_some(severity))
        }
        Verdict::Broker(why) => ("secret-to-skill-host", why, None),
    };
    emit_flow(a, flow, rule, &why, severity, out);
}

fn emit_flow(a: &Analysed<'_>, flow: &Flow, rule: &str, why: &str, severity: Option<Severity>, out: &mut Emitter<'_>) {
    let names: Vec<String> = flow.sources.iter().map(|s| escape_snippet(&s.secret.name, 60)).collect();
    let destination = flow.host.as_deref().map_or_else(String::new, |h| format!(" for {h}"));
    let detail = format!(
        "`{}` reaches `{}`{destination} in {}: {why}",
        names.join("`, `"),
        escape_snippet(&flow.callee, 60),
        flow.channel.as_str()
    );
    let location = HitLocation::File { file: a.file, range: Some(a.base + flow.call.start..a.base + flow.call.end) };
    let Some(hit) = out.emit(rule, location, Some(detail)) else { return };
    hit.severity = severity;
    if let Some(url) = &flow.url {
        hit.captures.push(("url".to_string(), url.clone()));
    }
    for source in flow.sources.iter().take(4) {
        hit.related.push(related(a, source.range.clone(), "source"));
    }
}

#[cfg(test)]
mod tests {
    use super::has_line_longer_than;

    #[test]
    fn long_lines_are_measured_as_lines_measures_them() {
        let texts = [
            String::new(),
            "abc".to_string(),
            "abc\r\n".to_string(),
            "abcd\r".to_string(),
            "ab\r\nabc\nabcd\r".to_string(),
            "\n\n\r\n".to_string(),
            "a\r\r\nb".to_string(),
            "x\u{E9}\u{1F600}\ny".to_string(),
        ];
        for text in &texts {
            for limit in 0..6 {
                assert_eq!(
                    has_line_longer_than(text, limit),
                    text.lines().any(|l| l.len() > limit),
                    "{text:?} {limit}"
                );
            }
        }
    }
}
