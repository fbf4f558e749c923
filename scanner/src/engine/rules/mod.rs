//! Rules as data: loading the rule files, validating them, and compiling every matcher once —
//! one Aho-Corasick automaton for the regex prefilters and the spellings of `at_least` lists.

pub mod catalog;
pub mod lists;
pub mod prefilter;
pub mod schema;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use aho_corasick::AhoCorasick;
use regex::Regex;
use sha2::{Digest, Sha256};

use crate::engine::finding::{Category, Confidence, Severity};
use crate::engine::lang::Lang;
use crate::engine::text::ascii_word_boundaries;
pub use lists::{HostLists, Indicators, Member, Services, TermLists};
pub use schema::{Example, Examples, Provenance, RuleFile, View, Within};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_rules.rs"));
}

/// A rule that cannot be loaded. Messages name the file and what is wrong with it.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("rule `{id}` is defined twice: {first} and {second}")]
    Duplicate { id: String, first: String, second: String },
}

fn invalid(file: &str, message: impl Into<String>) -> RuleError {
    RuleError::Invalid { file: file.to_string(), message: message.into() }
}

/// Where a rule was loaded from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleOrigin {
    Builtin(String),
    File(PathBuf),
}

impl std::fmt::Display for RuleOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RuleOrigin::Builtin(path) => write!(f, "rules/{path}"),
            RuleOrigin::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// A set of views as a bitmask.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ViewSet(u16);

impl ViewSet {
    pub fn of(views: &[View]) -> Self {
        ViewSet(views.iter().fold(0, |mask, v| mask | (1 << *v as u16)))
    }
    pub fn contains(self, view: View) -> bool {
        self.0 & (1 << view as u16) != 0
    }
    pub fn union(self, other: ViewSet) -> ViewSet {
        ViewSet(self.0 | other.0)
    }
}

/// A rule's regex (`match.regex`, `unless.*`), compiled when a scan first needs it. Compiling
/// every rule's regexes was three quarters of the start-up of a scan of one skill (a CI gate,
/// `skillscan install`), and such a scan runs few of them: the literal prefilter rules out the
/// rest. A rule from the user's directory is compiled when it loads, so an invalid pattern is
/// still a load error naming the file; the built-in ones are checked by a test that compiles
/// every one of them.
pub struct RuleRegex {
    pattern: String,
    compiled: OnceLock<Regex>,
}

impl RuleRegex {
    /// The pattern as compiled (`\b` already made ASCII).
    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// The compiled regex.
    ///
    /// # Panics
    /// When a built-in pattern does not compile: a defect of the rule set that the test
    /// compiling every built-in regex catches.
    pub fn get(&self) -> &Regex {
        self.compiled.get_or_init(|| {
            build_regex(&self.pattern).unwrap_or_else(|e| panic!("built-in rule regex does not compile: {e}"))
        })
    }
}

impl std::fmt::Debug for RuleRegex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("RuleRegex").field(&self.pattern).finish()
    }
}

#[derive(Debug)]
pub enum Matcher {
    Regex(RuleRegex),
    /// At least `count` distinct `members` in one `within` region (see [`schema::AtLeast`]).
    AtLeast {
        count: usize,
        members: Vec<Member>,
        within: Within,
    },
    Analyzer(String),
    Correlate {
        all: Vec<String>,
        scope: schema::CorrelateScope,
    },
}

#[derive(Debug, Default)]
pub struct CompiledUnless {
    /// Positive condition (from `match.host_in`): a URL host of the match must be in one of these.
    pub require_host_in: Vec<String>,
    pub line: Option<RuleRegex>,
    pub matched: Option<RuleRegex>,
    pub lead_in: Option<RuleRegex>,
    pub steps_above: Option<RuleRegex>,
    pub host_in: Vec<String>,
    pub paths: Option<globset::GlobSet>,
    /// Not a finding when the URL host is corroborated by the skill itself.
    pub corroborated: bool,
    /// Only a finding when the URL host is corroborated (from `match.corroborated`).
    pub require_corroborated: bool,
}

/// A compiled rule.
#[derive(Debug)]
pub struct Rule {
    pub id: String,
    pub name: String,
    /// `None` for capability-only rules: they feed the manifest and correlation, not the report.
    pub severity: Option<Severity>,
    pub category: Category,
    pub confidence: Confidence,
    pub message: String,
    pub description: String,
    pub remediation: String,
    pub references: Vec<String>,
    pub views: ViewSet,
    pub view_list: Vec<View>,
    pub languages: Vec<Lang>,
    pub capability: Option<String>,
    pub provenance: Option<Provenance>,
    pub matcher: Matcher,
    pub unless: CompiledUnless,
    pub disabled_by_default: bool,
    pub examples: Examples,
    pub origin: RuleOrigin,
}

impl Rule {
    /// Whether this rule looks at a segment of this view and language.
    pub fn applies_to(&self, view: View, lang: Lang) -> bool {
        if view == View::Decoded {
            return self.views.contains(View::Decoded);
        }
        self.views.contains(view)
            && (self.languages.is_empty()
                || self.languages.contains(&lang)
                || !matches!(view, View::Code | View::Strings | View::Comments))
    }
}

/// Why an Aho-Corasick pattern is in the automaton.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiteralRole {
    /// The rule's regex cannot match without this literal: it is in the group whose bit this
    /// is (see [`prefilter::prefilter_branches`] and `RuleSet::prefilter_masks`).
    Prefilter(u8),
    /// An `at_least` rule: the pattern is a spelling of the member with this index.
    Member(u32),
}

/// When code of one language needs a syntax tree for the rules: when one of `rules` (text rules
/// on the strings or comments view but not on the code view) matches the code's text — a match
/// inside a comment or string is a match in the code too, so the text test is cheap and exact
/// enough, and most code is never parsed for nothing.
#[derive(Debug, Default, Clone)]
pub struct TreeDemand {
    pub rules: Vec<usize>,
}

/// The compiled rules, lists and indicators a scan runs with.
pub struct RuleSet {
    pub rules: Vec<Rule>,
    by_id: HashMap<String, usize>,
    pub literals: Option<AhoCorasick>,
    pub literal_owners: Vec<Vec<(usize, LiteralRole)>>,
    /// Per literal: the views its owners look at. A segment skips the literals of rules that
    /// do not look at its view (every literal of a file is in its raw segment, and few rules
    /// read raw text).
    pub literal_views: Vec<ViewSet>,
    /// Per rule: the branches of its prefilter as bit masks over `LiteralRole::Prefilter` bits;
    /// the regex runs when all bits of one branch were seen in a segment.
    pub prefilter_masks: Vec<Vec<u32>>,
    /// Per rule and branch (as `prefilter_masks`): how far apart the literal of the branch's
    /// first group (bit `2b`) and the literal of its second group (bit `2b + 1`) after it can
    /// start, when the pattern bounds it (see [`prefilter::Branch::within`]).
    pub prefilter_within: Vec<Vec<Option<prefilter::Distance>>>,
    /// Per rule: some branch has a distance (asked once per literal found, so kept, not derived).
    prefilter_distanced: Vec<bool>,
    /// Regex rules without a usable prefilter literal: run on every applicable segment.
    pub unfiltered: Vec<usize>,
    /// Regex rules that can only match non-ASCII text: run on segments that have some.
    pub non_ascii: Vec<usize>,
    /// Per language: when a code segment is worth a syntax tree.
    pub tree_demand: HashMap<Lang, TreeDemand>,
    /// An analyzer-based rule needs syntax trees of code with dataflow sources.
    pub tree_demand_dataflow: bool,
    pub lists: HostLists,
    pub terms: TermLists,
    pub indicators: Indicators,
    pub services: Services,
    pub version: String,
}

impl std::fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleSet").field("rules", &self.rules.len()).field("version", &self.version).finish()
    }
}

/// Rule data files: rule YAML, host lists, indicators.
#[derive(Debug, Default, Clone)]
pub struct RuleSources {
    /// (origin, relative path, contents)
    files: Vec<(RuleOrigin, String, String)>,
    indicators_override: Option<(String, String)>,
}

impl RuleSources {
    /// The rules compiled into the binary.
    pub fn builtin() -> Self {
        RuleSources {
            files: embedded::EMBEDDED
                .iter()
                .map(|(path, text)| {
                    (RuleOrigin::Builtin((*path).to_string()), (*path).to_string(), (*text).to_string())
                })
                .collect(),
            indicators_override: None,
        }
    }

    /// Adds every rule, list and indicator file under `dir`; a rule with the id of a built-in
    /// rule replaces it, a list with the name of a built-in list replaces it.
    pub fn add_dir(&mut self, dir: &Path) -> Result<(), RuleError> {
        let mut found = Vec::new();
        collect_files(dir, dir, &mut found)?;
        for (path, rel) in found {
            let text = std::fs::read_to_string(&path)
                .map_err(|source| RuleError::Io { path: path.display().to_string(), source })?;
            self.files.push((RuleOrigin::File(path), rel, text));
        }
        Ok(())
    }

    /// Replaces the indicator file (`--ioc FILE`).
    pub fn set_indicators(&mut self, path: &Path) -> Result<(), RuleError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| RuleError::Io { path: path.display().to_string(), source })?;
        self.indicators_override = Some((path.display().to_string(), text));
        Ok(())
    }

    /// Replaces the indicators with `text` (an empty text means no indicators: the tests check
    /// that every family is caught by behaviour alone).
    pub fn set_indicators_text(&mut self, origin: &str, text: &str) {
        self.indicators_override = Some((origin.to_string(), text.to_string()));
    }

    /// Adds one rule from text (used by tests and `rules test` on single files).
    pub fn add_text(&mut self, rel: &str, text: &str) {
        self.files.push((RuleOrigin::File(PathBuf::from(rel)), rel.to_string(), text.to_string()));
    }

    pub fn compile(&self) -> Result<RuleSet, RuleError> {
        compile(self)
    }
}

fn collect_files(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, String)>) -> Result<(), RuleError> {
    let entries = std::fs::read_dir(dir).map_err(|source| RuleError::Io { path: dir.display().to_string(), source })?;
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            collect_files(root, &path, out)?;
        } else if let Some(ext) = path.extension().and_then(|e| e.to_str())
            && matches!(ext, "yaml" | "yml" | "txt" | "toml")
        {
            let rel = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().replace('\\', "/");
            out.push((path, rel));
        }
    }
    Ok(())
}

fn is_term_list_file(rel: &str) -> bool {
    rel.starts_with("lists/terms/") && rel.ends_with(".txt")
}

fn is_list_file(rel: &str) -> bool {
    rel.starts_with("lists/") && rel.ends_with(".txt") && !is_term_list_file(rel)
}

fn is_indicator_file(rel: &str) -> bool {
    rel == "indicators.toml"
}

fn is_services_file(rel: &str) -> bool {
    rel == "services.toml"
}

fn is_rule_file(rel: &str) -> bool {
    (rel.ends_with(".yaml") || rel.ends_with(".yml")) && !rel.starts_with("lists/")
}

fn compile(sources: &RuleSources) -> Result<RuleSet, RuleError> {
    // Later files override earlier ones with the same id or list name.
    let mut rule_files: BTreeMap<String, (RuleOrigin, String, String)> = BTreeMap::new();
    let mut list_files: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut term_files: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut indicators_text: Option<(String, String)> = None;
    let mut services_text: Option<(String, String)> = None;
    let mut seen_in_source: HashMap<(bool, String), String> = HashMap::new();
    for (origin, rel, text) in &sources.files {
        if is_term_list_file(rel) {
            let name = rel.trim_start_matches("lists/terms/").trim_end_matches(".txt").to_string();
            term_files.insert(name, (origin.to_string(), text.clone()));
        } else if is_list_file(rel) {
            let name = rel.trim_start_matches("lists/").trim_end_matches(".txt").to_string();
            list_files.insert(name, (origin.to_string(), text.clone()));
        } else if is_indicator_file(rel) {
            indicators_text = Some((origin.to_string(), text.clone()));
        } else if is_services_file(rel) {
            services_text = Some((origin.to_string(), text.clone()));
        } else if is_rule_file(rel) {
            let stem = Path::new(rel).file_stem().and_then(|s| s.to_str()).unwrap_or("").to_string();
            let builtin = matches!(origin, RuleOrigin::Builtin(_));
            if let Some(first) = seen_in_source.insert((builtin, stem.clone()), origin.to_string()) {
                return Err(RuleError::Duplicate { id: stem, first, second: origin.to_string() });
            }
            rule_files.insert(stem, (origin.clone(), rel.clone(), text.clone()));
        }
    }
    if let Some(over) = &sources.indicators_override {
        indicators_text = Some(over.clone());
    }

    let lists = HostLists::parse(
        list_files.iter().map(|(name, (origin, text))| (name.as_str(), origin.as_str(), text.as_str())),
    )?;
    let terms = TermLists::parse(
        term_files.iter().map(|(name, (origin, text))| (name.as_str(), origin.as_str(), text.as_str())),
    )?;
    let indicators = match &indicators_text {
        Some((origin, text)) => Indicators::parse(origin, text)?,
        None => Indicators::default(),
    };
    let services = match &services_text {
        Some((origin, text)) => Services::parse(origin, text)?,
        None => Services::default(),
    };

    // Rule files parse and their prefilters are worked out on all cores (built-in regexes
    // compile later, on first use: see `RuleRegex`).
    let rules = {
        use rayon::prelude::*;
        let files: Vec<_> = rule_files.iter().collect();
        files
            .par_iter()
            .map(|(stem, (origin, _, text))| compile_rule(stem, origin, text, &lists, &terms))
            .collect::<Result<Vec<_>, _>>()?
    };
    let mut hasher = Sha256::new();
    for (rel, text) in rule_files.values().map(|(_, rel, text)| (rel, text)) {
        hasher.update(rel.as_bytes());
        hasher.update([0]);
        hasher.update(text.as_bytes());
        hasher.update([0]);
    }
    for (name, (_, text)) in &list_files {
        hasher.update(name.as_bytes());
        hasher.update(text.as_bytes());
    }
    for (name, (_, text)) in &term_files {
        hasher.update(b"terms/");
        hasher.update(name.as_bytes());
        hasher.update(text.as_bytes());
    }
    if let Some((_, text)) = &indicators_text {
        hasher.update(text.as_bytes());
    }
    if let Some((_, text)) = &services_text {
        hasher.update(b"services.toml");
        hasher.update(text.as_bytes());
    }
    let digest = hasher.finalize();
    let version = format!("{}+{}", env!("CARGO_PKG_VERSION"), &hex::encode(digest)[..12]);

    let by_id = rules.iter().enumerate().map(|(i, r)| (r.id.clone(), i)).collect();
    let capabilities: std::collections::HashSet<&str> = rules
        .iter()
        .filter_map(|r| r.capability.as_deref())
        .chain(catalog::ANALYZER_CAPABILITIES.iter().copied())
        .collect();
    for rule in &rules {
        if let Matcher::Correlate { all, .. } = &rule.matcher {
            for cap in all {
                if !capabilities.contains(cap.as_str()) {
                    return Err(invalid(
                        &rule.origin.to_string(),
                        format!("correlate: no rule records the capability `{cap}`"),
                    ));
                }
            }
        }
    }

    let LiteralEngine {
        automaton: literals,
        owners: literal_owners,
        prefilter_masks,
        prefilter_within,
        unfiltered,
        non_ascii,
    } = build_literal_engine(&rules, &lists)?;
    let literal_views = literal_owners
        .iter()
        .map(|owners| owners.iter().fold(ViewSet::default(), |views, (rule, _)| views.union(rules[*rule].views)))
        .collect();
    let tree_demand = build_tree_demand(&rules);
    let tree_demand_dataflow = rules.iter().any(|r| matches!(&r.matcher, Matcher::Analyzer(a) if a == "dataflow"));
    Ok(RuleSet {
        rules,
        by_id,
        literals,
        literal_views,
        literal_owners,
        prefilter_masks,
        prefilter_distanced: prefilter_within.iter().map(|b| b.iter().any(Option::is_some)).collect(),
        prefilter_within,
        unfiltered,
        non_ascii,
        tree_demand_dataflow,
        tree_demand,
        lists,
        terms,
        indicators,
        services,
        version,
    })
}

fn compile_rule(
    stem: &str,
    origin: &RuleOrigin,
    text: &str,
    lists: &HostLists,
    terms: &TermLists,
) -> Result<Rule, RuleError> {
    let file = origin.to_string();
    let spec: RuleFile = serde_saphyr::from_str(text).map_err(|e| invalid(&file, format!("invalid rule file: {e}")))?;
    if spec.id != stem {
        return Err(invalid(&file, format!("the id `{}` must equal the file stem `{stem}`", spec.id)));
    }
    let id_ok = spec.id.len() >= 3
        && spec.id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && spec.id.as_bytes()[0].is_ascii_lowercase();
    if !id_ok {
        return Err(invalid(&file, "ids are kebab-case: lowercase letters, digits and `-`, starting with a letter"));
    }
    if spec.examples.positive.is_empty() || spec.examples.negative.is_empty() {
        return Err(invalid(&file, "every rule needs at least one `match` and one `no_match` example"));
    }
    for (field, value) in
        [("message", &spec.message), ("description", &spec.description), ("remediation", &spec.remediation)]
    {
        if value.trim().is_empty() {
            return Err(invalid(&file, format!("`{field}` must not be empty")));
        }
    }
    let builtin = matches!(origin, RuleOrigin::Builtin(_));
    let m = &spec.matcher;
    let kinds = [m.regex.is_some(), m.at_least.is_some(), m.analyzer.is_some(), m.correlate.is_some()];
    if kinds.iter().filter(|k| **k).count() != 1 {
        return Err(invalid(&file, "`match` needs exactly one of regex, at_least, analyzer, correlate"));
    }
    let matcher = if let Some(pattern) = &m.regex {
        Matcher::Regex(rule_regex(&file, "match.regex", pattern, builtin)?)
    } else if let Some(at_least) = &m.at_least {
        compile_at_least(&file, at_least, terms)?
    } else if let Some(name) = &m.analyzer {
        if !catalog::is_known_analyzer(name) {
            return Err(invalid(
                &file,
                format!("unknown analyzer `{name}` (known: {})", catalog::ANALYZER_NAMES.join(", ")),
            ));
        }
        Matcher::Analyzer(name.clone())
    } else if let Some(correlate) = &m.correlate {
        if correlate.all.len() < 2 {
            return Err(invalid(&file, "`correlate.all` needs at least two capabilities"));
        }
        Matcher::Correlate { all: correlate.all.clone(), scope: correlate.scope }
    } else {
        return Err(invalid(&file, "`match` is empty"));
    };
    for list in spec.unless.host_in.iter().chain(&m.host_in) {
        if !lists.has(list) {
            return Err(invalid(
                &file,
                format!("unless.host_in: unknown list `{list}` (lists live in rules/lists/<name>.txt)"),
            ));
        }
    }
    let paths = if spec.unless.paths.is_empty() {
        None
    } else {
        let mut builder = globset::GlobSetBuilder::new();
        for glob in &spec.unless.paths {
            builder.add(globset::Glob::new(glob).map_err(|e| invalid(&file, format!("unless.paths: {e}")))?);
        }
        Some(builder.build().map_err(|e| invalid(&file, format!("unless.paths: {e}")))?)
    };
    let unless = CompiledUnless {
        require_host_in: m.host_in.clone(),
        line: spec.unless.line.as_deref().map(|p| rule_regex(&file, "unless.line", p, builtin)).transpose()?,
        matched: spec.unless.matched.as_deref().map(|p| rule_regex(&file, "unless.matched", p, builtin)).transpose()?,
        lead_in: spec.unless.lead_in.as_deref().map(|p| rule_regex(&file, "unless.lead_in", p, builtin)).transpose()?,
        steps_above: spec
            .unless
            .steps_above
            .as_deref()
            .map(|p| rule_regex(&file, "unless.steps_above", p, builtin))
            .transpose()?,
        host_in: spec.unless.host_in.clone(),
        paths,
        corroborated: spec.unless.corroborated,
        require_corroborated: m.corroborated,
    };
    Ok(Rule {
        id: spec.id,
        name: spec.name,
        severity: spec.severity.finding_severity(),
        category: spec.category,
        confidence: spec.confidence,
        message: spec.message.trim().to_string(),
        description: spec.description.trim().to_string(),
        remediation: spec.remediation.trim().to_string(),
        references: spec.references,
        views: ViewSet::of(&spec.views),
        view_list: spec.views,
        languages: spec.languages,
        capability: spec.capability,
        provenance: spec.provenance,
        matcher,
        unless,
        disabled_by_default: spec.disabled,
        examples: spec.examples,
        origin: origin.clone(),
    })
}

fn compile_at_least(file: &str, spec: &schema::AtLeast, terms: &TermLists) -> Result<Matcher, RuleError> {
    let members = match &spec.list {
        schema::MemberList::Named(name) => terms
            .get(name)
            .ok_or_else(|| {
                let known = terms.names().collect::<Vec<_>>().join(", ");
                invalid(
                    file,
                    format!("at_least.list: unknown term list `{name}` (rules/lists/terms/<name>.txt; known: {known})"),
                )
            })?
            .to_vec(),
        schema::MemberList::Inline(entries) => {
            Member::parse_all(entries.iter().enumerate().map(|(i, e)| (i + 1, e.as_str())))
                .map_err(|why| invalid(file, format!("at_least.list: {}", why.replacen("line", "member", 1))))?
        }
    };
    if spec.count < 2 || spec.count > members.len() {
        return Err(invalid(
            file,
            format!(
                "at_least.count must be between 2 and the number of members ({}), not {}",
                members.len(),
                spec.count
            ),
        ));
    }
    Ok(Matcher::AtLeast { count: spec.count, members, within: spec.within })
}

fn build_regex(pattern: &str) -> Result<Regex, regex::Error> {
    regex::RegexBuilder::new(pattern).size_limit(8 << 20).build()
}

/// A rule's regex (`match.regex`, `unless.*`): a built-in one is compiled on first use (see
/// [`RuleRegex`]), a user's now.
fn rule_regex(file: &str, field: &str, pattern: &str, builtin: bool) -> Result<RuleRegex, RuleError> {
    let pattern = ascii_word_boundaries(pattern);
    let compiled = OnceLock::new();
    if !builtin {
        let _ = compiled.set(build_regex(&pattern).map_err(|e| invalid(file, format!("{field}: {e}")))?);
    }
    Ok(RuleRegex { pattern, compiled })
}

/// Literals at least one of which must occur (case-insensitively) wherever `pattern` matches;
/// `None` when there are none (see [`prefilter`]).
pub fn prefilter_literals(pattern: &str) -> Option<Vec<String>> {
    match prefilter::prefilter(pattern)? {
        prefilter::Prefilter::Literals(set) => Some(set),
        prefilter::Prefilter::NonAscii => None,
    }
}

/// A regex rule's prefilter, worked out from its pattern (see `build_literal_engine`).
enum PrefilterPlan {
    Branches(prefilter::Branches),
    /// No branches: one literal set for the whole pattern, or none.
    Whole(Option<prefilter::Prefilter>),
}

struct LiteralEngine {
    automaton: Option<AhoCorasick>,
    owners: Vec<Vec<(usize, LiteralRole)>>,
    prefilter_masks: Vec<Vec<u32>>,
    prefilter_within: Vec<Vec<Option<prefilter::Distance>>>,
    unfiltered: Vec<usize>,
    non_ascii: Vec<usize>,
}

fn build_literal_engine(rules: &[Rule], lists: &HostLists) -> Result<LiteralEngine, RuleError> {
    let mut patterns: Vec<String> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut owners: Vec<Vec<(usize, LiteralRole)>> = Vec::new();
    let mut unfiltered = Vec::new();
    let mut non_ascii = Vec::new();
    let mut prefilter_masks = vec![Vec::new(); rules.len()];
    let mut prefilter_within = vec![Vec::new(); rules.len()];
    let mut add = |pattern: String,
                   owner: (usize, LiteralRole),
                   patterns: &mut Vec<String>,
                   owners: &mut Vec<Vec<(usize, LiteralRole)>>| {
        let id = *index.entry(pattern.clone()).or_insert_with(|| {
            patterns.push(pattern);
            owners.push(Vec::new());
            owners.len() - 1
        });
        if !owners[id].contains(&owner) {
            owners[id].push(owner);
        }
    };
    // A rule whose URL host must be in a list cannot match where none of the list's hosts
    // occurs (hosts are compared as written, lowercased): those are its literals, far rarer
    // than anything in a URL-shaped regex.
    let required_hosts: Vec<Vec<&str>> = rules
        .iter()
        .map(|rule| {
            rule.unless.require_host_in.iter().flat_map(|list| lists.hosts(list)).filter(|h| !h.is_empty()).collect()
        })
        .collect();
    // Working out the literals from each pattern's syntax tree is most of this function's
    // time and independent per rule: on all cores (a small scan's start-up is mostly this).
    let mut plans: Vec<Option<PrefilterPlan>> = {
        use rayon::prelude::*;
        rules
            .par_iter()
            .zip(&required_hosts)
            .map(|(rule, hosts)| match &rule.matcher {
                Matcher::Regex(regex) if hosts.is_empty() => {
                    Some(match prefilter::prefilter_branches(regex.as_str()) {
                        Some(branches) => PrefilterPlan::Branches(branches),
                        None => PrefilterPlan::Whole(prefilter::prefilter(regex.as_str())),
                    })
                }
                _ => None,
            })
            .collect()
    };
    for (i, rule) in rules.iter().enumerate() {
        if matches!(rule.matcher, Matcher::Regex(_)) && !required_hosts[i].is_empty() {
            for &host in &required_hosts[i] {
                add(host.to_string(), (i, LiteralRole::Prefilter(0)), &mut patterns, &mut owners);
            }
            prefilter_masks[i] = vec![1];
            prefilter_within[i] = vec![None];
            continue;
        }
        match &rule.matcher {
            Matcher::Regex(_) => {
                let whole = match plans[i].take() {
                    Some(PrefilterPlan::Whole(whole)) => whole,
                    Some(PrefilterPlan::Branches(branches)) => {
                        for (b, branch) in branches.into_iter().enumerate() {
                            let mut mask = 0u32;
                            prefilter_within[i].push(branch.within);
                            for (g, words) in branch.groups.into_iter().enumerate() {
                                let bit = (2 * b + g) as u8;
                                mask |= 1 << bit;
                                for w in words {
                                    add(w, (i, LiteralRole::Prefilter(bit)), &mut patterns, &mut owners);
                                }
                            }
                            prefilter_masks[i].push(mask);
                        }
                        continue;
                    }
                    // Not worked out: the safe default, run everywhere.
                    None => None,
                };
                match whole {
                    Some(prefilter::Prefilter::Literals(words)) => {
                        for w in words {
                            add(w, (i, LiteralRole::Prefilter(0)), &mut patterns, &mut owners);
                        }
                        prefilter_masks[i] = vec![1];
                        prefilter_within[i] = vec![None];
                    }
                    Some(prefilter::Prefilter::NonAscii) => non_ascii.push(i),
                    None => unfiltered.push(i),
                }
            }
            Matcher::AtLeast { members, .. } => {
                for (m, member) in members.iter().enumerate() {
                    let role = LiteralRole::Member(u32::try_from(m).unwrap_or(u32::MAX));
                    for spelling in &member.spellings {
                        add(spelling.clone(), (i, role), &mut patterns, &mut owners);
                    }
                }
            }
            _ => {}
        }
    }
    if patterns.is_empty() {
        return Ok(LiteralEngine { automaton: None, owners, prefilter_masks, prefilter_within, unfiltered, non_ascii });
    }
    let automaton = aho_corasick::AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .match_kind(aho_corasick::MatchKind::Standard)
        // Overlapping search cannot use the packed prefilter; a full DFA has no failure
        // transitions to chase and makes the per-file literal pass about twice as fast.
        .kind(Some(aho_corasick::AhoCorasickKind::DFA))
        .build(&patterns)
        .map_err(|e| invalid("rules", format!("literal automaton: {e}")))?;
    Ok(LiteralEngine { automaton: Some(automaton), owners, prefilter_masks, prefilter_within, unfiltered, non_ascii })
}

fn build_tree_demand(rules: &[Rule]) -> HashMap<Lang, TreeDemand> {
    let mut demand: HashMap<Lang, TreeDemand> = HashMap::new();
    for lang in [Lang::Shell, Lang::Python, Lang::Javascript, Lang::Typescript, Lang::Powershell] {
        let entry = demand.entry(lang).or_default();
        for (index, rule) in rules.iter().enumerate() {
            match &rule.matcher {
                // A rule that also reads the code itself sees every comment and string in it:
                // it needs no tree for them.
                Matcher::Regex(_) | Matcher::AtLeast { .. }
                    if (rule.applies_to(View::Strings, lang) || rule.applies_to(View::Comments, lang))
                        && !rule.applies_to(View::Code, lang) =>
                {
                    entry.rules.push(index);
                }
                _ => {}
            }
        }
    }
    demand
}

impl RuleSet {
    /// The built-in rules.
    pub fn builtin() -> Result<RuleSet, RuleError> {
        RuleSources::builtin().compile()
    }

    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.by_id.get(id).map(|&i| &self.rules[i])
    }

    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// Whether the prefilter groups seen in a segment (`LiteralRole::Prefilter` bits) complete
    /// one branch of the rule's prefilter.
    pub fn prefilter_satisfied(&self, rule: usize, groups: u32) -> bool {
        for &mask in &self.prefilter_masks[rule] {
            if groups & mask == mask {
                return true;
            }
        }
        false
    }

    /// Whether a rule's prefilter distances matter (some branch of it bounds how far apart its
    /// two literal groups are): then the engine records where its literals occur.
    pub fn prefilter_has_distance(&self, rule: usize) -> bool {
        self.prefilter_distanced[rule]
    }

    /// Whether the distance between a rule's literals has to be checked: some branch with a
    /// distance has all its groups among `groups` (else where its literals are does not matter).
    pub fn prefilter_distance_in_question(&self, rule: usize, groups: u32) -> bool {
        let mut branches = self.prefilter_masks[rule].iter().zip(&self.prefilter_within[rule]);
        branches.any(|(&mask, within)| within.is_some() && groups & mask == mask)
    }

    /// [`RuleSet::prefilter_satisfied`], and for a branch with a distance, a literal of its first
    /// group followed, no further than the distance, by one of its second group. `found` is
    /// the rule's literals in the segment as (bit, start, end), each bit's in start order.
    pub fn prefilter_satisfied_near(
        &self,
        rule: usize,
        groups: u32,
        found: &[(u8, usize, usize)],
        gaps: &mut prefilter::Gaps<'_>,
    ) -> bool {
        let branches = self.prefilter_masks[rule].iter().zip(&self.prefilter_within[rule]);
        for (branch, (&mask, within)) in branches.enumerate() {
            if groups & mask != mask {
                continue;
            }
            let Some(within) = *within else { return true };
            let (first, second) = ((2 * branch) as u8, (2 * branch + 1) as u8);
            let seconds: Vec<usize> = found.iter().filter(|f| f.0 == second).map(|f| f.1).collect();
            // The nearest second-group literal that starts after the first one ends is the only
            // one worth checking: any later one is further away.
            let near = found.iter().filter(|f| f.0 == first).any(|&(_, start, end)| {
                let next = seconds.partition_point(|&s| s < end);
                seconds.get(next).is_some_and(|&s| {
                    within.bytes.is_none_or(|most| s - start <= most)
                        && within.visible.is_none_or(|most| gaps.visible_within(start, s, most))
                        && (!within.one_line || gaps.same_line(start, s))
                })
            });
            if near {
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefilters_are_derived_and_lowercased() {
        assert_eq!(
            prefilter_literals(r"(?i)\b(?:curl|wget)\b.*\|\s*sh"),
            Some(vec!["curl".to_string(), "wget".to_string()])
        );
        assert_eq!(prefilter_literals(r"[A-Za-z]+"), None);
    }
}
