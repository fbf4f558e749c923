//! `show`: one version's state, scan report and capabilities; `--diff` adds the update
//! review against the last approved version.

use anyhow::Result;
use clap::Args;
use serde_json::Value;
use skillscan::clawhub::api::SortedKeys;
use skillscan_mirror::Mirror;
use skillscan_mirror::model::VersionRecord;
use skillscan_mirror::service::{self, UpdateReview, VersionShow, parse_key};

use crate::exit::Exit;

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// SLUG@VERSION
    key: String,
    /// Add the update review: what changed since the previous version.
    #[arg(long)]
    diff: bool,
    /// As JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(m: &Mirror, args: ShowArgs) -> Result<Exit> {
    let (slug, version) = parse_key(&args.key)?;
    let rec = m.get(&slug, &version)?;
    let review = if args.diff { Some(m.review(&slug, &version)?) } else { None };
    if args.json {
        // `--json` carries the full versioned scan report.
        println!("{}", serde_json::to_string_pretty(&SortedKeys(VersionShow::new(&rec, review.as_ref())))?);
        return Ok(Exit::Success);
    }
    let report: Option<Value> = rec.report_json.as_deref().and_then(|r| serde_json::from_str(r).ok());
    print_record(&rec);
    // Human output lists the findings.
    if let Some(report) = &report {
        print_findings(report);
    }
    if let Some(review) = &review {
        println!();
        print_review(&slug, review);
    }
    Ok(Exit::Success)
}

/// State, verdict, digests, capabilities and files.
fn print_record(rec: &VersionRecord) {
    println!("{}  owner={}  state={}", rec.key(), rec.owner.as_deref().unwrap_or("-"), rec.state);
    println!("reason:   {}", rec.state_reason);
    println!(
        "verdict:  {} (rules {})",
        rec.verdict.map(|v| v.to_string()).unwrap_or_else(|| "-".into()),
        rec.rules_version.as_deref().unwrap_or("-")
    );
    println!("sha256:   {}", rec.archive_sha256);
    println!("tree:     {}", rec.tree_digest);
    println!("source:   {}", rec.source);
    println!("signed:   {}", if rec.signature.is_some() { "yes" } else { "no" });
    if !rec.reason_codes.is_empty() {
        println!("findings: {}", rec.reason_codes.join(", "));
    }
    if let Some(c) = &rec.capabilities {
        println!("capabilities:");
        for l in service::caps_lines(c) {
            println!("  {l}");
        }
    }
    println!("files:");
    for f in &rec.files {
        println!("  {:>8}  {}  {}", f.size, f.sha256, f.path);
    }
}

/// The findings of the stored scan report, one line each.
fn print_findings(report: &Value) {
    let findings: Vec<&Value> = report["skills"]
        .as_array()
        .map(|skills| skills.iter().flat_map(|s| s["findings"].as_array().into_iter().flatten()).collect())
        .unwrap_or_default();
    println!("scan findings ({}):", findings.len());
    for f in findings {
        let suppressed = if f.get("suppressed").is_some_and(|x| !x.is_null()) { " (suppressed)" } else { "" };
        println!(
            "  {:<8} {:<28} {}:{}  {}{suppressed}",
            f["severity"].as_str().unwrap_or("?"),
            f["rule_id"].as_str().unwrap_or("?"),
            f["file"].as_str().unwrap_or("?"),
            f["line"].as_u64().unwrap_or(0),
            f["message"].as_str().unwrap_or("")
        );
    }
}

/// Files added, removed and changed, the capability delta and the text diffs.
fn print_review(slug: &str, rv: &UpdateReview) {
    let Some(b) = &rv.base_version else {
        println!("update review: no earlier approved version of {slug}");
        return;
    };
    println!("update review against approved {slug}@{b}:");
    for p in &rv.files_added {
        println!("  + {p}");
    }
    for p in &rv.files_removed {
        println!("  - {p}");
    }
    for p in &rv.files_changed {
        println!("  ~ {p}");
    }
    let lines = rv.capability_delta.lines();
    if lines.is_empty() {
        println!("capability delta: none (no new capability)");
    } else {
        println!("capability delta:");
        for l in lines {
            println!("  {l}");
        }
    }
    for d in rv.text_diffs.values() {
        print!("{d}");
    }
}
