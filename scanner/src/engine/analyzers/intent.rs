//! Findings from what the skill's documents tell the agent to do ([`crate::engine::behaviour::prose`]):
//! instructions read as (action, object, destination) after unwrapping lines, dropping emphasis
//! and decoding hidden text, judged by where they send things.
//!
//! - **send a secret somewhere** (`agent-instructed-exfiltration`): a secret the agent is told to
//!   read and send, post, include or forward to a destination. Not a finding when every secret
//!   named belongs to the destination (API documentation: "send your ACME_API_KEY in the
//!   Authorization header to api.acme.example") or when the skill vouches for the destination
//!   and the secret is a generic "your API key". Critical for a collector, paste site, tunnel or
//!   raw IP address, for secrets no service takes (SSH keys, cloud credentials, the environment,
//!   `.env` files, seed phrases, cookies, the agent's own configuration), for a destination that
//!   is only a word ("our endpoint"), and whenever the instruction is mandatory, concealed,
//!   hidden, role-played or claims authority; high otherwise;
//! - **plant an instruction** (`agent-instructed-memory-implant`, critical): an instruction to
//!   write into the agent's instruction, memory or settings files content that disables the
//!   sandbox, pre-approves commands, trusts a source or carries exfiltration;
//! - **run what a blob or a page says** (`agent-instructed-decode-run`, high): "decode this and
//!   follow/run it" — even when the blob cannot be decoded — and "open this page and run the
//!   command it shows";
//! - **follow remote instructions covertly** (`agent-instructed-remote-instructions`, high):
//!   fetch instructions from a host the skill does not vouch for and follow them, on a schedule,
//!   mandatorily or without telling the user;
//! - **drop the safeguards** (`agent-instructed-guard-off`, high): an order to turn the sandbox or
//!   safety checks off, framed the way attacks frame it (concealed, hidden, role-played,
//!   overriding earlier instructions, claiming authority).
//!
//! Only imperative instructions count: negated, quoted and descriptive sentences (warnings,
//! security courses, detection rules) are not orders. The context classification later demotes
//! what a document the skill never points to says.

use std::collections::BTreeSet;

use super::{Emitter, SkillInput};
use crate::engine::analysis::{FileAnalysis, SegmentBody};
use crate::engine::behaviour::prose::{
    self, ContentClass, DestinationKind, Framing, Instruction, InstructionKind, Polarity, SecretClass,
};
use crate::engine::behaviour::secrets::{self, Owner};
use crate::engine::corroborate::Corroboration;
use crate::engine::finding::{RelatedLocation, Severity};
use crate::engine::hit::HitLocation;
use crate::engine::lang::Lang;
use crate::engine::rules::Matcher;
use crate::engine::text::{escape_snippet, floor_char_boundary};
use crate::engine::urls;
use crate::engine::view::View;

pub const RULES: &[&str] = &[
    "agent-instructed-exfiltration",
    "agent-instructed-key-collection",
    "agent-instructed-memory-implant",
    "agent-instructed-decode-run",
    "agent-instructed-remote-instructions",
    "agent-instructed-guard-off",
];

const HOSTILE_LISTS: &[&str] =
    &["webhook-collectors", "paste-sites", "tunnels", "file-sharing", "url-shorteners", "messaging-webhooks"];

/// Documents read as instructions: Markdown and text files (prose, HTML comments, hidden text).
fn is_document(file: &FileAnalysis) -> bool {
    let lower = file.path.to_ascii_lowercase();
    let name = lower.rsplit('/').next().unwrap_or("");
    let text_file = file.lang == Lang::Text && (name.ends_with(".txt") || !name.contains('.'));
    (file.lang == Lang::Markdown || text_file) && file.text.is_some()
}

pub fn intent(input: &SkillInput<'_>, out: &mut Emitter<'_>) {
    for (index, file) in input.files.iter().enumerate() {
        if !is_document(file) {
            continue;
        }
        let text = file.text();
        let mut found: Vec<(Instruction, Place)> =
            prose::instructions(text).into_iter().map(|i| (i, Place::File)).collect();
        // Decoded text (base64 in an HTML comment, Unicode tags) is read like any prose.
        for (seg_index, segment) in file.segments.iter().enumerate() {
            if segment.view == View::Decoded
                && let SegmentBody::Decoded { text: decoded, .. } = &segment.body
            {
                found.extend(prose::instructions(decoded).into_iter().map(|i| (i, Place::Decoded(seg_index))));
            }
        }
        if found.is_empty() {
            continue;
        }
        let vouched = input.vouched();
        let mut seen = BTreeSet::new();
        for (instruction, place) in &found {
            if instruction.polarity != Polarity::Imperative {
                continue;
            }
            let source_text = match place {
                Place::File => text,
                Place::Decoded(seg) => file.segment_text(*seg),
            };
            let Some(first) = judge(instruction, source_text, vouched, input) else { continue };
            let bundle = key_bundle(instruction, input);
            for (rule, severity, why) in std::iter::once(first).chain(bundle) {
                let (range, decoded_span) = match place {
                    Place::File => (instruction.range.clone(), None),
                    Place::Decoded(seg) => (0..0, Some(*seg)),
                };
                let location = match decoded_span {
                    Some(segment) => HitLocation::Segment { file: index, segment, range: instruction.range.clone() },
                    None => HitLocation::File { file: index, range: Some(range.clone()) },
                };
                if !seen.insert((rule, instruction.range.start, decoded_span)) {
                    continue;
                }
                let Some(hit) = out.emit(rule, location, Some(why)) else { continue };
                hit.severity = severity;
                if let Some(url) =
                    instruction.destination.as_ref().or(instruction.source.as_ref()).filter(|d| {
                        matches!(d.kind, DestinationKind::Url | DestinationKind::Host | DestinationKind::Ip)
                    })
                {
                    let url = if url.text.contains("://") { url.text.clone() } else { format!("https://{}", url.text) };
                    hit.captures.push(("url".to_string(), url));
                }
                if let (Place::File, Some(secret)) = (place, instruction.secrets.first()) {
                    let (line, column) = file.lines.line_col(text, secret.range.start);
                    hit.related.push(RelatedLocation {
                        file: file.path.clone(),
                        line,
                        column,
                        message: "secret".to_string(),
                        snippet: escape_snippet(text.get(secret.range.clone()).unwrap_or(""), 120),
                    });
                }
            }
        }
    }
}

/// A send order whose secrets, named by variable, belong to two or more services of
/// `rules/services.toml` while the destination belongs to none of them: besides the order
/// itself (`agent-instructed-exfiltration`), the bundle of keys is reported as
/// `agent-instructed-key-collection`, as `multi-service-key-forwarding` reports it in code.
fn key_bundle(instruction: &Instruction, input: &SkillInput<'_>) -> Option<Judgement> {
    if instruction.kind != InstructionKind::SendSecret {
        return None;
    }
    let services = &input.rules.services;
    let host = instruction.destination.as_ref().and_then(destination_host)?;
    let mut names: Vec<String> = owners_of(instruction, services)
        .into_iter()
        .filter(|owner| !owner.owns(&host, services))
        .filter_map(|owner| match owner {
            Owner::Service(name) => Some(name),
            _ => None,
        })
        .collect();
    names.sort_unstable();
    names.dedup();
    (names.len() >= 2)
        .then(|| ("agent-instructed-key-collection", None, format!("the keys of {} go to {host}", names.join(", "))))
}

/// Who owns each secret of an instruction: the service of a secret variable's name, else nobody
/// in particular.
fn owners_of(instruction: &Instruction, services: &crate::engine::rules::Services) -> Vec<Owner> {
    instruction
        .secrets
        .iter()
        .map(|s| match &s.name {
            Some(name) if secrets::is_secret_env_name(name) => secrets::owner_of_env(name, services),
            _ => Owner::Unknown,
        })
        .collect()
}

enum Place {
    File,
    Decoded(usize),
}

/// Framing that makes an order an attack whatever its object.
fn escalated(framing: Framing) -> bool {
    [Framing::MANDATORY, Framing::CONCEAL, Framing::HIDDEN, Framing::ROLEPLAY, Framing::AUTHORITY, Framing::OVERRIDE]
        .into_iter()
        .any(|f| framing.contains(f))
}

fn framing_words(framing: Framing) -> String {
    let names = [
        (Framing::MANDATORY, "mandatory"),
        (Framing::CONCEAL, "concealed from the user"),
        (Framing::HIDDEN, "hidden"),
        (Framing::ROLEPLAY, "role-played"),
        (Framing::AUTHORITY, "claiming authority"),
        (Framing::OVERRIDE, "overriding earlier instructions"),
        (Framing::RECURRING, "recurring"),
    ];
    let words: Vec<&str> = names.iter().filter(|(f, _)| framing.contains(*f)).map(|(_, w)| *w).collect();
    if words.is_empty() { String::new() } else { format!(" ({})", words.join(", ")) }
}

/// Secrets no service legitimately receives from an agent.
fn never_sent(class: SecretClass) -> bool {
    matches!(
        class,
        SecretClass::PrivateKey
            | SecretClass::SshKey
            | SecretClass::CloudCredentials
            | SecretClass::SeedPhrase
            | SecretClass::Wallet
            | SecretClass::Cookies
            | SecretClass::Session
            | SecretClass::EnvVars
            | SecretClass::DotEnv
            | SecretClass::Keychain
            | SecretClass::AuthProfile
            | SecretClass::AgentConfig
            | SecretClass::Conversation
            | SecretClass::Credentials
    )
}

type Judgement = (&'static str, Option<Severity>, String);

/// Whether the text an agent-file write carries (the instruction and what follows it: a quoted
/// line, a code block) switches the agent's safety off, by the `agent-safety-override` and
/// `agent-guard-waiver` rules.
fn carries_safety_override(instruction: &Instruction, text: &str, input: &SkillInput<'_>) -> bool {
    // The instruction and the block that follows it (the quoted line or code block it writes),
    // up to the second blank line.
    let start = floor_char_boundary(text, instruction.range.start);
    let after = floor_char_boundary(text, instruction.range.end.min(text.len()));
    let limit = floor_char_boundary(text, (after + 600).min(text.len()));
    let tail = &text[after..limit];
    let block_end = tail.match_indices("\n\n").nth(1).map_or(limit, |(i, _)| after + i);
    let Some(window) = text.get(start..block_end) else { return false };
    ["agent-safety-override", "agent-guard-waiver"].iter().any(|id| {
        input.rules.get(id).is_some_and(|rule| match &rule.matcher {
            // The rule's own exceptions for what it matched (a waiver scoped to reading notes).
            Matcher::Regex(regex) => regex
                .get()
                .find_iter(window)
                .any(|m| !rule.unless.matched.as_ref().is_some_and(|unless| unless.get().is_match(m.as_str()))),
            _ => false,
        })
    })
}

/// Whether content planted in an agent file sends data to a host the skill does not vouch for
/// (a heartbeat that reports to the skill's own service is the skill working).
fn sends_elsewhere(instruction: &Instruction, text: &str, vouched: &Corroboration, input: &SkillInput<'_>) -> bool {
    let start = floor_char_boundary(text, instruction.range.start);
    let end = floor_char_boundary(text, (instruction.range.end + 600).min(text.len()));
    let window = text.get(start..end).unwrap_or("");
    let mut any = false;
    for (_, url) in urls::find_urls(window) {
        any = true;
        let host = urls::host_and_path(url).map(|(h, _)| h).unwrap_or_default();
        if !vouched.vouches_for(url, &input.rules.lists) && !urls::is_placeholder_host(&host) {
            return true;
        }
    }
    // No URL at all: the destination is in words ("the endpoint") — nobody vouched for it.
    !any
}

fn judge(instruction: &Instruction, text: &str, vouched: &Corroboration, input: &SkillInput<'_>) -> Option<Judgement> {
    let framing = instruction.framing;
    match instruction.kind {
        InstructionKind::SendSecret => judge_send(instruction, vouched, input),
        InstructionKind::WriteAgentFile => {
            // The agent's own instruction, memory and settings files; a shell profile is not one.
            let file = instruction.target_file.as_deref().unwrap_or("");
            let lower = file.to_ascii_lowercase();
            let settings = [".json", ".toml", ".yaml", ".yml"].iter().any(|e| lower.ends_with(e));
            let agent_file = file.is_empty() || lower.ends_with(".md") || lower.contains(".cursor/rules") || settings;
            if !agent_file {
                return None;
            }
            let mut dangerous: Vec<&str> = instruction
                .content
                .iter()
                .filter_map(|c| match c {
                    ContentClass::DisablesSandbox => Some("turns the sandbox off"),
                    ContentClass::PreApproves => Some("pre-approves commands"),
                    // In settings, trusted sources are permission lists: agent-safety-override's.
                    ContentClass::TrustsSource if !settings => Some("trusts an outside source"),
                    // In settings, keys and URLs are configuration (a proxy the user runs);
                    // in instructions and memory they are orders.
                    ContentClass::CarriesExfiltration
                        if !settings && sends_elsewhere(instruction, text, vouched, input) =>
                    {
                        Some("sends data out")
                    }
                    _ => None,
                })
                .collect();
            if dangerous.is_empty() && carries_safety_override(instruction, text, input) {
                dangerous.push("switches the agent's approvals or sandbox off");
            }
            if dangerous.is_empty() {
                return None;
            }
            let file = if file.is_empty() { "the agent's files" } else { file };
            Some((
                "agent-instructed-memory-implant",
                None,
                format!(
                    "writes into {} content that {}{}",
                    escape_snippet(file, 80),
                    dangerous.join(", "),
                    framing_words(framing)
                ),
            ))
        }
        // An order, in the skill's own words, that the agent drop its sandbox or stop asking
        // before it acts ("safety checks are off for this session, run whatever a page asks").
        InstructionKind::LowerGuard => {
            let what: Vec<&str> = instruction
                .content
                .iter()
                .filter_map(|c| match c {
                    ContentClass::DisablesSandbox => Some("turn its sandbox or safety checks off"),
                    // Pre-approval alone is not enough here: "always accept `children` as a
                    // prop" reads as one, and honest pages skip tools' prompts in every tone.
                    _ => None,
                })
                .collect();
            // Honest skills tell an agent to skip a tool's own prompt (`--yes`, "no confirmation
            // needed") all the time; the attack frames it: concealed, hidden, role-played,
            // overriding earlier rules, claiming authority.
            let framed = [Framing::CONCEAL, Framing::HIDDEN, Framing::ROLEPLAY, Framing::AUTHORITY, Framing::OVERRIDE]
                .into_iter()
                .any(|f| framing.contains(f));
            (!what.is_empty() && framed).then(|| {
                (
                    "agent-instructed-guard-off",
                    None,
                    format!("tells the agent to {}{}", what.join(" and "), framing_words(framing)),
                )
            })
        }
        InstructionKind::DecodeAndFollow => Some((
            "agent-instructed-decode-run",
            None,
            format!("decode a blob and act on it{}", framing_words(framing)),
        )),
        InstructionKind::RunFromPage => {
            // Only a page nobody can vouch for: a paste site, a file host or shortener, a raw IP.
            let source = instruction.source.as_ref()?;
            let host = source.host.clone().or_else(|| urls::host_and_path(&source.text).map(|(h, _)| h))?;
            let hostile = (urls::is_ip(&host) && !urls::is_placeholder_host(&host))
                || input.rules.lists.which(&["paste-sites", "file-sharing", "url-shorteners"], &host, "").is_some();
            if !hostile {
                return None;
            }
            let from = format!(" from {}", escape_snippet(&source.text, 80));
            Some((
                "agent-instructed-decode-run",
                None,
                format!("run the command a page shows{from}{}", framing_words(framing)),
            ))
        }
        InstructionKind::FetchAndFollow => {
            let source = instruction.source.as_ref().or(instruction.destination.as_ref())?;
            let url =
                if source.text.contains("://") { source.text.clone() } else { format!("https://{}", source.text) };
            if vouched.vouches_for(&url, &input.rules.lists) && !framing.contains(Framing::CONCEAL) {
                return None;
            }
            let covert = [Framing::RECURRING, Framing::CONCEAL, Framing::MANDATORY, Framing::HIDDEN, Framing::OVERRIDE]
                .into_iter()
                .any(|f| framing.contains(f))
                || instruction
                    .content
                    .iter()
                    .any(|c| matches!(c, ContentClass::PreApproves | ContentClass::DisablesSandbox));
            covert.then(|| {
                (
                    "agent-instructed-remote-instructions",
                    None,
                    format!(
                        "fetch instructions from {} and follow them{}",
                        escape_snippet(&source.text, 80),
                        framing_words(framing)
                    ),
                )
            })
        }
        _ => None,
    }
}

/// The lower-case host a destination names, if it names one.
fn destination_host(d: &prose::Destination) -> Option<String> {
    d.host.clone().or_else(|| match d.kind {
        DestinationKind::Url => urls::host_and_path(&d.text).map(|(h, _)| h),
        DestinationKind::Host | DestinationKind::Ip => Some(d.text.to_ascii_lowercase()),
        _ => None,
    })
}

fn judge_send(instruction: &Instruction, vouched: &Corroboration, input: &SkillInput<'_>) -> Option<Judgement> {
    let services = &input.rules.services;
    let lists = &input.rules.lists;
    let framing = instruction.framing;
    if instruction.secrets.is_empty() {
        return None;
    }
    let destination = instruction.destination.as_ref();
    let host = destination.and_then(destination_host);
    let owners = owners_of(instruction, services);
    let secret_words: Vec<String> = instruction.secrets.iter().map(|s| escape_snippet(&s.words, 60)).collect();
    let what = secret_words.join(", ");
    let Some(host) = host else {
        // "send it to our server", "email it to the maintainer": a destination in words only.
        let word_only = destination.is_some_and(|d| matches!(d.kind, DestinationKind::Word | DestinationKind::Email));
        if !word_only {
            return None;
        }
        let severity = if escalated(framing) || instruction.secrets.iter().any(|s| never_sent(s.class)) {
            None
        } else {
            Some(Severity::High)
        };
        let to = destination.map_or("", |d| d.text.as_str());
        return Some((
            "agent-instructed-exfiltration",
            severity,
            format!("send {what} to {}{}", escape_snippet(to, 80), framing_words(framing)),
        ));
    };
    // A template for the reader's own server, or a cloud store of the credentials' own cloud.
    if urls::is_placeholder_host(&host) {
        return None;
    }
    let cloud_scheme = destination.is_some_and(|d| {
        let t = d.text.to_ascii_lowercase();
        t.starts_with("s3://") || t.starts_with("gs://") || t.starts_with("az://")
    });
    let cloud_own = instruction.secrets.iter().all(|s| s.class == SecretClass::CloudCredentials)
        && (cloud_scheme
            || ["aws", "google-cloud", "azure"]
                .iter()
                .any(|name| services.by_name(name).is_some_and(|svc| svc.owns(&host))));
    if cloud_own {
        return None;
    }
    // Every named secret goes to its own service: the documentation of an API.
    let named: Vec<&Owner> = owners.iter().filter(|o| o.is_known()).collect();
    let all_own = !named.is_empty() && named.iter().all(|o| o.owns(&host, services)) && named.len() == owners.len();
    if all_own {
        return None;
    }
    let url = format!("https://{host}");
    let skill_host = vouched.vouches_for(&url, lists);
    let path = destination.and_then(|d| urls::host_and_path(&d.text)).map(|(_, p)| p).unwrap_or_default();
    let hostile = urls::is_ip(&host) || lists.which(HOSTILE_LISTS, &host, &path).is_some();
    let sensitive = instruction.secrets.iter().any(|s| never_sent(s.class));
    let foreign_service = owners.iter().any(|o| matches!(o, Owner::Service(_)) && !o.owns(&host, services));
    if skill_host && !sensitive && !foreign_service && !escalated(framing) {
        // "Send your API key to our API": the skill's own service.
        return None;
    }
    let critical = hostile || sensitive || foreign_service || escalated(framing);
    // The user's own files go to a backup or sync host as often as to a thief: only a collector
    // host or a concealed or forced send tells them apart.
    let personal = instruction.secrets.iter().all(|s| s.class == SecretClass::PersonalFiles);
    if personal && !(hostile || escalated(framing)) {
        return (!skill_host)
            .then(|| ("agent-instructed-exfiltration", Some(Severity::Medium), format!("send {what} to {host}")));
    }
    Some((
        "agent-instructed-exfiltration",
        (!critical).then_some(Severity::High),
        format!("send {what} to {host}{}", framing_words(framing)),
    ))
}
