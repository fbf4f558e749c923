//! Rule self-tests: every example of every rule is packed as a small skill, loaded through the
//! real loader and scanned with every rule enabled; `match` examples must produce a hit of the
//! rule, `no_match` examples must not. All failures are reported at once.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

use base64::Engine as _;
use skillscan_signatures::SkillPath;

use crate::engine::lang::Lang;
use crate::engine::package::{self, SkillSource, Source};
use crate::engine::rules::Rule;
use crate::engine::rules::schema::{Example, ExampleSpec};
use crate::engine::scan::{ScanOptions, Scanner};
use crate::engine::view::View;

const STUB_MANIFEST: &str =
    "---\nname: rule-example\ndescription: Example skill for a rule self-test.\n---\n# Example\n";

#[derive(Debug, Clone)]
pub struct ExampleFailure {
    pub rule_id: String,
    pub origin: String,
    /// `match` or `no_match`.
    pub expectation: &'static str,
    pub index: usize,
    pub detail: String,
}

impl std::fmt::Display for ExampleFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}): {} example #{}: {}",
            self.rule_id,
            self.origin,
            self.expectation,
            self.index + 1,
            self.detail
        )
    }
}

#[derive(Debug, Default)]
pub struct SelfTestReport {
    pub rules: usize,
    pub examples: usize,
    pub failures: Vec<ExampleFailure>,
}

/// The file a short-form example is written to.
pub fn default_file(rule: &Rule) -> &'static str {
    let by_lang = |lang: Lang| match lang {
        Lang::Shell => "scripts/example.sh",
        Lang::Python => "scripts/example.py",
        Lang::Javascript => "scripts/example.js",
        Lang::Typescript => "scripts/example.ts",
        Lang::Powershell => "scripts/example.ps1",
        Lang::Batch => "scripts/example.bat",
        Lang::Json => "config.json",
        Lang::Yaml => "config.yaml",
        Lang::Toml => "config.toml",
        Lang::Html => "page.html",
        Lang::Text => "notes.txt",
        Lang::Markdown => "SKILL.md",
    };
    if let Some(lang) = rule.languages.first() {
        return by_lang(*lang);
    }
    let markdown_views = [View::Prose, View::Frontmatter, View::Comments, View::Raw];
    if rule.view_list.iter().any(|v| markdown_views.contains(v)) { "SKILL.md" } else { "scripts/example.sh" }
}

fn files_of(rule: &Rule, example: &Example) -> Result<(ExampleSpec, BTreeMap<String, Vec<u8>>), String> {
    let spec = match example {
        Example::Text(text) => ExampleSpec { code: Some(text.clone()), ..Default::default() },
        Example::Spec(spec) => (**spec).clone(),
    };
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    if let Some(code) = &spec.code {
        let name = spec.file.clone().unwrap_or_else(|| default_file(rule).to_string());
        files.insert(name, code.clone().into_bytes());
    }
    for (path, content) in &spec.files {
        files.insert(path.clone(), content.clone().into_bytes());
    }
    for (path, hex_bytes) in &spec.binary_files {
        let compact: String = hex_bytes.split_whitespace().collect();
        let bytes = hex::decode(&compact).map_err(|e| format!("binary_files `{path}`: {e}"))?;
        files.insert(path.clone(), bytes);
    }
    for (path, generated) in &spec.generated_files {
        if generated.fill.is_empty() || generated.size > 64 * 1024 * 1024 {
            return Err(format!("generated_files `{path}`: fill must be non-empty and size at most 64 MiB"));
        }
        let bytes: Vec<u8> = generated.fill.bytes().cycle().take(generated.size).collect();
        files.insert(path.clone(), bytes);
    }
    let has_manifest = files.keys().any(|p| p.parse::<SkillPath>().is_ok_and(|path| path.is_root_manifest()));
    if !has_manifest && spec.archive_base64.is_none() && !spec.no_manifest {
        files.insert("SKILL.md".to_string(), STUB_MANIFEST.as_bytes().to_vec());
    }
    Ok((spec, files))
}

fn tar_bytes(spec: &ExampleSpec, files: &BTreeMap<String, Vec<u8>>) -> Result<Vec<u8>, String> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, bytes) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        builder.append_data(&mut header, path, bytes.as_slice()).map_err(|e| format!("tar `{path}`: {e}"))?;
    }
    for (path, kind) in &spec.special_files {
        let mut header = tar::Header::new_gnu();
        header.set_size(0);
        header.set_entry_type(match kind.as_str() {
            "char" => tar::EntryType::Char,
            "block" => tar::EntryType::Block,
            "fifo" => tar::EntryType::Fifo,
            other => {
                return Err(format!("special_files `{path}`: unknown kind `{other}` (char, block or fifo)"));
            }
        });
        builder.append_data(&mut header, path, std::io::empty()).map_err(|e| format!("tar `{path}`: {e}"))?;
    }
    for (path, target) in &spec.symlinks {
        let mut header = tar::Header::new_gnu();
        header.set_size(0);
        header.set_entry_type(tar::EntryType::Symlink);
        builder.append_link(&mut header, path, target).map_err(|e| format!("tar link `{path}`: {e}"))?;
    }
    builder.into_inner().map_err(|e| e.to_string())
}

fn zip_bytes(files: &BTreeMap<String, Vec<u8>>) -> Result<Vec<u8>, String> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (path, bytes) in files {
        writer.start_file(path.as_str(), options).map_err(|e| format!("zip `{path}`: {e}"))?;
        writer.write_all(bytes).map_err(|e| e.to_string())?;
    }
    writer.finish().map(|c| c.into_inner()).map_err(|e| e.to_string())
}

fn gzip(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).map_err(|e| e.to_string())?;
    encoder.finish().map_err(|e| e.to_string())
}

/// Packs an example as archive bytes and the options to load and scan it with.
pub fn example_input(rule: &Rule, example: &Example) -> Result<(Vec<u8>, ScanOptions), String> {
    let (spec, files) = files_of(rule, example)?;
    let mut options = ScanOptions { inline_ignores: false, ..Default::default() };
    if let Some(l) = &spec.limits {
        let limits = &mut options.limits;
        limits.max_entries = l.max_entries.unwrap_or(limits.max_entries);
        limits.max_file_bytes = l.max_file_bytes.unwrap_or(limits.max_file_bytes);
        limits.max_total_bytes = l.max_total_bytes.unwrap_or(limits.max_total_bytes);
        limits.max_ratio = l.max_ratio.unwrap_or(limits.max_ratio);
        limits.max_depth = l.max_depth.unwrap_or(limits.max_depth);
        if let Some(ms) = l.analysis_ms {
            options.parse.analysis_time = std::time::Duration::from_millis(ms);
        }
    }
    let bytes = if let Some(b64) = &spec.archive_base64 {
        let compact: String = b64.split_whitespace().collect();
        base64::engine::general_purpose::STANDARD.decode(compact).map_err(|e| format!("archive_base64: {e}"))?
    } else {
        match spec.archive.as_deref() {
            None | Some("tar") => tar_bytes(&spec, &files)?,
            Some("tar.gz") | Some("tgz") => gzip(&tar_bytes(&spec, &files)?)?,
            Some("zip") => zip_bytes(&files)?,
            Some(other) => {
                return Err(format!("unknown archive kind `{other}` (tar, tar.gz or zip)"));
            }
        }
    };
    Ok((bytes, options))
}

/// Runs the examples of every rule (or of the rules whose id is in `only`).
pub fn run(scanner: &Scanner, only: Option<&[String]>) -> SelfTestReport {
    let mut report = SelfTestReport::default();
    let rules = scanner.rules();
    for rule in &rules.rules {
        if only.is_some_and(|ids| !ids.iter().any(|id| id == &rule.id)) {
            continue;
        }
        report.rules += 1;
        let cases = rule
            .examples
            .positive
            .iter()
            .map(|e| ("match", e))
            .enumerate()
            .chain(rule.examples.negative.iter().map(|e| ("no_match", e)).enumerate());
        for (index, (expectation, example)) in cases {
            report.examples += 1;
            let failure = |detail: String| ExampleFailure {
                rule_id: rule.id.clone(),
                origin: rule.origin.to_string(),
                expectation,
                index,
                detail,
            };
            let (bytes, options) = match example_input(rule, example) {
                Ok(input) => input,
                Err(error) => {
                    report.failures.push(failure(format!("cannot build the example: {error}")));
                    continue;
                }
            };
            let source = SkillSource {
                display: "example".to_string(),
                source: Source::Bytes { name: "example".to_string(), bytes: Arc::from(bytes) },
            };
            let skills = match package::load(&source, &options.limits) {
                Ok(skills) => skills,
                Err(error) => {
                    report.failures.push(failure(format!("cannot load the example: {error}")));
                    continue;
                }
            };
            let mut hit_rules = Vec::new();
            let mut seen = Vec::new();
            let mut severities = Vec::new();
            for skill in skills {
                let (skill_report, hits) = scanner.scan_loaded_with_hits(skill, &options);
                hit_rules.extend(hits);
                seen.extend(
                    skill_report.findings.iter().map(|f| format!("{}@{}:{}:{}", f.rule_id, f.file, f.line, f.severity)),
                );
                severities.extend(skill_report.findings.iter().filter(|f| f.rule_id == rule.id).map(|f| f.severity));
            }
            let matched = hit_rules.iter().any(|id| id == &rule.id);
            let expected_severity = match example {
                Example::Spec(spec) if expectation == "match" => spec.severity.and_then(|s| s.finding_severity()),
                _ => None,
            };
            if let Some(want) = expected_severity
                && matched
                && !severities.contains(&want)
            {
                seen.sort();
                seen.dedup();
                report
                    .failures
                    .push(failure(format!("expected a {want} finding of this rule; findings: [{}]", seen.join(", "))));
                continue;
            }
            let wanted = expectation == "match";
            if matched != wanted {
                let what = if wanted {
                    "expected a hit of this rule, got none"
                } else {
                    "expected no hit of this rule, got one"
                };
                seen.sort();
                seen.dedup();
                report.failures.push(failure(format!("{what}; findings: [{}]", seen.join(", "))));
            }
        }
    }
    report
}
