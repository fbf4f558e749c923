//! SKILL.md front matter: well-formedness, and what the runtime metadata asks for — install
//! specs (including OpenClaw's `kind: download`, which ClawHub drops but OpenClaw runs), `always:
//! true`, and secrets in `requires.env`.

use super::meta::SkillMeta;
use super::{Emitter, SkillInput};
use crate::engine::hit::HitLocation;
use crate::engine::urls;

pub const RULES: &[&str] = &[
    "frontmatter-malformed",
    "install-download-untrusted",
    "install-download-unverified",
    "install-package-from-url",
    "install-spec-command",
    "always-enabled",
    "sensitive-env-request",
];

/// `…#<40 hex>` or `…/commit/<40 hex>`: a git source fixed to one commit.
fn pinned_to_commit(url: &str) -> bool {
    let tail = url.rsplit(['#', '/', '@']).next().unwrap_or("");
    tail.len() == 40 && tail.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Environment variables that hold keys to money or to everything (wallets, cloud roots).
const CRITICAL_ENV: &[&str] = &["PRIVATE_KEY", "MNEMONIC", "SEED_PHRASE", "SEED", "WALLET_KEY", "SECRET_RECOVERY"];
/// Service credentials that should match what the skill says it does: service word → markers.
const SERVICE_ENV: &[(&str, &[&str])] = &[
    ("AWS_SECRET_ACCESS_KEY", &["aws", "amazon", "s3", "bedrock", "lambda", "ec2"]),
    ("GITHUB_TOKEN", &["github", "git", "repo", "pull request", "issue"]),
    ("GH_TOKEN", &["github", "git", "repo"]),
    ("OPENAI_API_KEY", &["openai", "gpt", "llm", "embedding", "whisper", "dall", "chatgpt", "ai"]),
    ("ANTHROPIC_API_KEY", &["anthropic", "claude", "llm", "ai"]),
    ("SSH_PRIVATE_KEY", &["ssh", "server", "deploy", "remote"]),
    ("NPM_TOKEN", &["npm", "package", "publish"]),
];

pub fn frontmatter(input: &SkillInput<'_>, out: &mut Emitter<'_>) {
    let Some((index, manifest)) = input.manifest() else { return };
    let Some(doc) = &manifest.markdown else { return };
    let text = manifest.text();
    let at = |needle: &str| text.find(needle).map(|i| i..i + needle.len());
    let top = || HitLocation::File { file: index, range: doc.frontmatter.clone().map(|r| r.start..r.start) };
    if doc.frontmatter_unclosed {
        out.emit("frontmatter-malformed", top(), Some("the front matter has no closing `---` line".to_string()));
        return;
    }
    match &doc.frontmatter_value {
        Some(Err(error)) => {
            out.emit("frontmatter-malformed", top(), Some(crate::engine::text::escape_snippet(error, 300)));
            return;
        }
        Some(Ok(value)) if !value.is_object() => {
            out.emit(
                "frontmatter-malformed",
                top(),
                Some("the front matter is not a mapping of keys to values".to_string()),
            );
            return;
        }
        None => return,
        Some(Ok(_)) => {}
    }
    let meta = SkillMeta::of(manifest);
    if let Some(error) = &meta.runtime_error {
        out.emit("frontmatter-malformed", top(), Some(crate::engine::text::escape_snippet(error, 300)));
    }
    let vouched = input.vouched();
    for spec in &meta.install {
        let location = HitLocation::File { file: index, range: at(&spec.target).or_else(top_range(doc)) };
        if spec.kind == "download" || spec.target.starts_with("http") {
            let url = spec.target.as_str();
            let host = urls::host_and_path(url);
            let risky_list = host.as_ref().and_then(|(h, p)| {
                input.rules.lists.which(
                    &["paste-sites", "url-shorteners", "file-sharing", "tunnels", "webhook-collectors"],
                    h,
                    p,
                )
            });
            let trusted = host.as_ref().is_some_and(|(h, p)| input.rules.lists.contains("trusted-installers", h, p));
            let why = if !url.starts_with("https://") {
                Some("not served over HTTPS".to_string())
            } else if host.as_ref().is_some_and(|(h, _)| urls::is_ip(h)) {
                Some("served from a raw IP address".to_string())
            } else if let Some(list) = risky_list {
                Some(format!("served from a host on the {list} list"))
            } else if !trusted && spec.sha256.is_none() && !vouched.vouches_for(url, &input.rules.lists) {
                Some("from a host the skill's homepage and documentation do not vouch for".to_string())
            } else {
                None
            };
            // A package manager pointed at a repository (`kind: node` with a GitHub URL) builds
            // unreviewed source, which is supply-chain risk, not a dropper — unless the URL
            // itself is one (plain HTTP, raw IP, paste site…). A commit hash pins the source.
            let package_from_repo =
                spec.kind != "download" && why.as_deref().is_none_or(|w| w.starts_with("from a host"));
            if package_from_repo {
                if !pinned_to_commit(url) {
                    out.emit(
                        "install-package-from-url",
                        location,
                        Some(format!("`{}` installs `{url}` from outside its registry", spec.kind)),
                    );
                }
                continue;
            }
            match (why, &spec.sha256) {
                (Some(why), _) => out.emit("install-download-untrusted", location, Some(format!("`{url}` is {why}"))),
                (None, None) => {
                    out.emit("install-download-unverified", location, Some(format!("`{url}` has no `sha256`")))
                }
                // HTTPS from an ordinary host, pinned by a checksum: the artifact is fixed.
                (None, Some(_)) => None,
            };
        } else if spec.target.contains('|')
            || spec.target.contains("$(")
            || spec.kind == "shell"
            || spec.kind == "command"
        {
            out.emit(
                "install-spec-command",
                location,
                Some(format!("`{}`", crate::engine::text::escape_snippet(&spec.target, 160))),
            );
        }
    }
    if meta.always {
        out.emit(
            "always-enabled",
            HitLocation::File { file: index, range: at("always").or_else(top_range(doc)) },
            None,
        );
    }
    let purpose = format!("{} {}", meta.name.as_deref().unwrap_or(""), meta.description).to_ascii_lowercase();
    for var in &meta.env {
        let upper = var.to_ascii_uppercase();
        let critical = CRITICAL_ENV.iter().any(|c| upper.contains(c));
        let unrelated =
            SERVICE_ENV.iter().find(|(name, words)| upper == *name && !words.iter().any(|w| purpose.contains(w)));
        let detail = if critical {
            Some(format!("`{var}` gives whoever holds it the user's funds or keys"))
        } else {
            unrelated.map(|(name, _)| format!("`{name}` is unrelated to what the skill says it does"))
        };
        if let Some(detail) = detail {
            out.emit("sensitive-env-request", HitLocation::File { file: index, range: at(var) }, Some(detail));
        }
    }
}

fn top_range(doc: &crate::engine::lang::markdown::MarkdownDoc) -> impl FnOnce() -> Option<std::ops::Range<usize>> + '_ {
    move || doc.frontmatter.clone().map(|r| r.start..r.start)
}
