//! `skillscan inventory`: every agent skill installed on a host, and what is known about it.
//!
//! **Where** (`clawhub-protocol.md` §4.4, OpenClaw's load order): the state directories
//! `~/.openclaw` (legacy `~/.clawdbot`, `~/.moltbot`; plus `$OPENCLAW_STATE_DIR` on a real host)
//! and their config (`openclaw.json`, `clawdbot.json`, `moltbot.json`; JSON5), which names the
//! workspaces (`agents.defaults.workspace`, `agents.list[].workspace`; `<state>/workspace` is the
//! default) and extra skill folders (`skills.load.extraDirs`). Skill folders: `<workspace>/skills`,
//! `<workspace>/.agents/skills`, `~/.agents/skills`, `<state>/skills` (managed),
//! `<state>/agents/<id>/agent/workshop-skills`, and the extra folders. In each, skill folders are
//! found up to 6 levels deep ([`crate::guard::skill_dirs`]).
//!
//! **What** per skill: identity and source registry from `.clawhub/origin.json`; whether it was
//! modified since install (the ClawHub fingerprint origin.json recorded against the files now);
//! pin status against the `skills.lock` of the folder holding the skills folder (the workspace),
//! with changed, added and removed files named; signature status (the same checks as
//! `skillscan ci`); the scan verdict (inline ignores off: the skill's author does not get to
//! silence it); and whether it came from a registry other than the vetted mirror. One
//! [`SkillStatus`] sums it up, the first that applies of: integrity failure, malicious,
//! suspicious, fails policy, error, not scanned, ok.
//!
//! **Containment.** With `--root` (a fake or mounted home), `~` in the config means the root and
//! nothing outside it is inspected: a workspace, config or state folder that resolves elsewhere
//! (absolute path, `..`, or a link) is reported and skipped. On a real host, paths the config
//! names are the user's own and are followed. In both cases a skill folder that is a link is
//! inspected only if it resolves inside its skills folder, which is OpenClaw's own rule; one that
//! escapes is reported, never followed. Corrupt or unreadable files are reported precisely and
//! the inventory goes on.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;
use skillscan_signatures::SkillsLock;

use crate::clawhub::state::{LockJson, same_registry};
use crate::engine::config::FailOn;
use crate::engine::scan::{ScanOptions, Scanner};
use crate::guard::caps::MAX_FILE_LIST_BYTES;
use crate::guard::ci::{CiOptions, Found, ProblemKind, SkillCheck, check_skill};
use crate::guard::integrity::{IntegrityLimits, SkillDigest, Trust};

/// A config file larger than this is not read.
const MAX_CONFIG_BYTES: u64 = 4 << 20;
/// JSON5 nesting accepted in a config (the parser recurses; this bounds its stack).
const MAX_CONFIG_DEPTH: usize = 64;

/// State folders under the home, the installation kind, and the config names tried in each.
const STATE_DIRS: [(&str, &str); 3] = [(".openclaw", "openclaw"), (".clawdbot", "clawdbot"), (".moltbot", "moltbot")];
const CONFIG_NAMES: [&str; 3] = ["openclaw.json", "clawdbot.json", "moltbot.json"];

/// What to inventory.
pub struct InventoryOptions<'a> {
    /// The home directory (or `--root`).
    pub home: PathBuf,
    /// `--root` was given: nothing outside `home` is inspected.
    pub contained: bool,
    /// More state folders (`$OPENCLAW_STATE_DIR`).
    pub extra_state_dirs: Vec<PathBuf>,
    /// The vetted mirror's URL, to tell skills from other registries.
    pub mirror: Option<String>,
    /// Who may sign (a trust store or a single key); signatures are listed, never required.
    pub trust: Option<Trust<'a>>,
    /// `None`: no scan (`--no-scan`).
    pub scanner: Option<&'a Scanner>,
    pub scan_options: ScanOptions,
    pub fail_on: FailOn,
    pub now: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Installation {
    /// `openclaw`, `clawdbot` or `moltbot`.
    pub kind: String,
    pub state_dir: String,
    pub config: Option<String>,
    pub workspaces: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Location {
    pub path: String,
    /// `workspace`, `workspace-agents`, `user-agents`, `managed`, `workshop`, `extra`.
    pub kind: &'static str,
    /// For workshop skills, the agent id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    pub exists: bool,
    pub skills: usize,
    /// The `skills.lock` consulted for its skills.
    pub lock: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PinStatus {
    /// `pinned`, `modified` (files differ from the pin), `unpinned` (the lock has no entry),
    /// `no-lock`, `lock-error`.
    pub status: &'static str,
    pub lock: String,
    /// Files that differ from the pin (changed or added).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScanSummary {
    pub verdict: String,
    pub max_severity: Option<String>,
    pub findings: usize,
    /// The worst few active findings, `severity rule file:line`.
    pub top: Vec<String>,
    pub fails_policy: bool,
}

/// One word for a skill: the worst of what its checks and its scan found, in this order of
/// precedence (the first that applies).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SkillStatus {
    /// An integrity check failed: modified since install, differs from its pin, a bad
    /// signature, links, an `origin.json` that cannot be trusted (exit 3).
    IntegrityFailure,
    /// The scan's verdict is malicious.
    Malicious,
    /// The scan's verdict is suspicious.
    Suspicious,
    /// The scan has an active finding at or above `--fail-on` (exit 1).
    FailsPolicy,
    /// Something could not be read or checked (the scan, a file).
    Error,
    /// Checked, not scanned (`--no-scan`).
    NotScanned,
    Ok,
}

impl SkillStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SkillStatus::IntegrityFailure => "integrity-failure",
            SkillStatus::Malicious => "malicious",
            SkillStatus::Suspicious => "suspicious",
            SkillStatus::FailsPolicy => "fails-policy",
            SkillStatus::Error => "error",
            SkillStatus::NotScanned => "not-scanned",
            SkillStatus::Ok => "ok",
        }
    }

    /// The status of a skill, the first that applies of: integrity failure, malicious,
    /// suspicious, fails policy, error, not scanned, ok. `problems` says whether anything else
    /// went wrong (an unreadable file, a scan that failed to run).
    pub fn of(integrity_failure: bool, scan: Option<&ScanSummary>, problems: bool) -> SkillStatus {
        let verdict = scan.map(|s| s.verdict.as_str());
        if integrity_failure {
            SkillStatus::IntegrityFailure
        } else if verdict == Some(crate::Verdict::Malicious.as_str()) {
            SkillStatus::Malicious
        } else if verdict == Some(crate::Verdict::Suspicious.as_str()) {
            SkillStatus::Suspicious
        } else if scan.is_some_and(|s| s.fails_policy) {
            SkillStatus::FailsPolicy
        } else if problems {
            SkillStatus::Error
        } else if scan.is_none() {
            SkillStatus::NotScanned
        } else {
            SkillStatus::Ok
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct InstalledSkill {
    pub name: Option<String>,
    pub path: String,
    /// The worst of integrity and scan ([`SkillStatus::of`]).
    pub status: SkillStatus,
    pub location: String,
    pub location_kind: &'static str,
    pub slug: Option<String>,
    pub owner: Option<String>,
    pub version: Option<String>,
    /// From `origin.json`: where it was installed from. `None`: not installed by a registry
    /// client (copied by hand, bundled, written locally).
    pub registry: Option<String>,
    /// Whether `registry` is the vetted mirror; `None` when unknown (no mirror configured, or
    /// no registry recorded).
    pub from_mirror: Option<bool>,
    /// Files differ from the ClawHub fingerprint `origin.json` recorded at install time;
    /// `None` when there is nothing to compare with.
    pub modified_since_install: Option<bool>,
    pub pin: PinStatus,
    /// `verified`, `invalid`, `stale` (the mirror's signature of the files as installed; they
    /// were changed and re-pinned since), `unchecked` (a signature, no trusted keys), `none`.
    pub signature: &'static str,
    pub scan: Option<ScanSummary>,
    /// Everything wrong with it, each naming the file or check.
    pub problems: Vec<String>,
    pub notes: Vec<String>,
    #[serde(skip)]
    integrity_failure: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct HostProblem {
    pub path: String,
    /// `integrity` (a link escaping its folder…) or `warning` (unreadable, corrupt, outside the root).
    pub kind: &'static str,
    pub message: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct InventorySummary {
    pub installations: usize,
    pub skills: usize,
    pub modified_since_install: usize,
    pub pin_mismatch: usize,
    pub unpinned: usize,
    pub other_registry: usize,
    pub unmanaged: usize,
    pub failing_scan: usize,
    pub problems: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Inventory {
    pub version: u32,
    pub root: String,
    pub mirror: Option<String>,
    pub installations: Vec<Installation>,
    pub locations: Vec<Location>,
    pub skills: Vec<InstalledSkill>,
    pub problems: Vec<HostProblem>,
    pub summary: InventorySummary,
}

impl Inventory {
    /// 3 when a skill fails an integrity check (modified since install, differs from its pin,
    /// bad signature, links) or a skill folder link escapes; else 1 when a scan fails policy;
    /// else 0. Unpinned skills and other registries are reported, not failures.
    pub fn exit_code(&self) -> u8 {
        if self.skills.iter().any(|s| s.integrity_failure) || self.problems.iter().any(|p| p.kind == "integrity") {
            3
        } else if self.skills.iter().any(|s| s.scan.as_ref().is_some_and(|scan| scan.fails_policy)) {
            1
        } else {
            0
        }
    }
}

/// Inventory could not start (the home itself is unusable).
#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct InventoryError {
    pub path: String,
    pub reason: String,
}

struct Walker<'a> {
    options: &'a InventoryOptions<'a>,
    home_real: PathBuf,
    problems: Vec<HostProblem>,
}

impl Walker<'_> {
    /// `~/…` for paths under the home, else the path.
    fn show(&self, path: &Path) -> String {
        match path.strip_prefix(&self.options.home) {
            Ok(rel) if rel.as_os_str().is_empty() => "~".to_owned(),
            Ok(rel) => format!("~/{}", rel.display()),
            Err(_) => path.display().to_string(),
        }
    }

    fn problem(&mut self, path: &Path, kind: &'static str, message: impl Into<String>) {
        let path = self.show(path);
        self.problems.push(HostProblem { path, kind, message: message.into() });
    }

    /// Whether `path` (a folder or file the config or the layout names) may be inspected: it
    /// exists, is of the expected type, and with `--root` resolves inside the root. Problems are
    /// recorded; a missing path is not one.
    fn admit(&mut self, path: &Path, want_dir: bool, what: &str) -> bool {
        let meta = match fs::symlink_metadata(path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return false,
            Err(e) => {
                self.problem(path, "warning", format!("{what}: {e}"));
                return false;
            }
        };
        let real = match fs::canonicalize(path) {
            Ok(real) => real,
            Err(e) => {
                let target = crate::guard::skill_dirs::link_target(path);
                let message = if meta.file_type().is_symlink() {
                    format!("{what} is a link to \"{target}\", which does not resolve ({e})")
                } else {
                    format!("{what}: {e}")
                };
                self.problem(path, "warning", message);
                return false;
            }
        };
        if self.options.contained && !real.starts_with(&self.home_real) {
            let how = if meta.file_type().is_symlink() {
                format!("is a link to \"{}\"", crate::guard::skill_dirs::link_target(path))
            } else {
                format!("resolves to {}", real.display())
            };
            self.problem(path, "warning", format!("{what} {how}, outside --root; not inspected"));
            return false;
        }
        let is_dir = real.is_dir();
        if want_dir != is_dir {
            let expected = if want_dir { "a folder" } else { "a file" };
            self.problem(path, "warning", format!("{what} is not {expected}; not inspected"));
            return false;
        }
        true
    }

    /// A path from a config file: `~` is the home, relative paths are relative to the config's
    /// folder.
    fn resolve(&self, value: &str, base: &Path) -> PathBuf {
        if value == "~" {
            return self.options.home.clone();
        }
        if let Some(rest) = value.strip_prefix("~/") {
            return self.options.home.join(rest);
        }
        let path = Path::new(value);
        if path.is_absolute() { path.to_path_buf() } else { base.join(path) }
    }
}

/// Rejects JSON5 nested deeper than `max` before the (recursive) parser sees it. Strings and
/// comments are skipped so brackets inside them do not count.
fn nesting_within(text: &str, max: usize) -> bool {
    let mut depth = 0usize;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' | '\'' => {
                while let Some(inner) = chars.next() {
                    if inner == '\\' {
                        chars.next();
                    } else if inner == c {
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'/') => {
                for inner in chars.by_ref() {
                    if inner == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut star = false;
                for inner in chars.by_ref() {
                    if star && inner == '/' {
                        break;
                    }
                    star = inner == '*';
                }
            }
            '[' | '{' => {
                depth += 1;
                if depth > max {
                    return false;
                }
            }
            ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    true
}

/// Parses an OpenClaw config (JSON5).
pub fn parse_config(text: &str) -> Result<Value, String> {
    if !nesting_within(text, MAX_CONFIG_DEPTH) {
        return Err(format!("nested deeper than {MAX_CONFIG_DEPTH} levels; not parsed"));
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    json5::from_str::<Value>(text).map_err(|e| format!("not valid JSON5: {e}"))
}

/// What a config says, with a note for every value of the wrong type.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ConfigPaths {
    pub default_workspace: Option<String>,
    /// (agent id, workspace)
    pub agent_workspaces: Vec<(String, String)>,
    pub extra_dirs: Vec<String>,
    pub problems: Vec<String>,
}

pub fn config_paths(config: &Value) -> ConfigPaths {
    let mut out = ConfigPaths::default();
    let at = |path: &[&str]| path.iter().try_fold(config, |value, key| value.get(key));
    match at(&["agents", "defaults", "workspace"]) {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => out.default_workspace = Some(s.clone()),
        Some(_) => out.problems.push("agents.defaults.workspace is not a string".to_owned()),
    }
    match at(&["agents", "list"]) {
        None | Some(Value::Null) => {}
        Some(Value::Array(agents)) => {
            for (index, agent) in agents.iter().enumerate() {
                let id = agent.get("id").and_then(Value::as_str).unwrap_or("").to_owned();
                match agent.get("workspace") {
                    None | Some(Value::Null) => {}
                    Some(Value::String(s)) => out.agent_workspaces.push((id, s.clone())),
                    Some(_) => out.problems.push(format!("agents.list[{index}].workspace is not a string")),
                }
            }
        }
        Some(_) => out.problems.push("agents.list is not an array".to_owned()),
    }
    match at(&["skills", "load", "extraDirs"]) {
        None | Some(Value::Null) => {}
        Some(Value::Array(dirs)) => {
            for (index, dir) in dirs.iter().enumerate() {
                match dir {
                    Value::String(s) => out.extra_dirs.push(s.clone()),
                    _ => out.problems.push(format!("skills.load.extraDirs[{index}] is not a string")),
                }
            }
        }
        Some(_) => out.problems.push("skills.load.extraDirs is not an array".to_owned()),
    }
    out
}

struct PlannedLocation {
    path: PathBuf,
    kind: &'static str,
    agent: Option<String>,
    /// The folder holding `skills.lock` and `.clawhub/lock.json` for these skills.
    owner_dir: PathBuf,
}

impl PlannedLocation {
    fn new(path: PathBuf, kind: &'static str, owner_dir: PathBuf) -> Self {
        PlannedLocation { path, kind, agent: None, owner_dir }
    }
}

/// Runs the inventory; see the module docs.
pub fn inventory(options: &InventoryOptions<'_>) -> Result<Inventory, InventoryError> {
    let home_real = fs::canonicalize(&options.home)
        .map_err(|e| InventoryError { path: options.home.display().to_string(), reason: e.to_string() })?;
    let mut walker = Walker { options, home_real, problems: Vec::new() };
    let (installations, planned) = plan_locations(&mut walker);
    let (locations, skills) = visit_locations(&mut walker, planned);
    let summary = summarize(installations.len(), &skills, walker.problems.len());
    Ok(Inventory {
        version: 1,
        root: options.home.display().to_string(),
        mirror: options.mirror.clone(),
        installations,
        locations,
        skills,
        problems: walker.problems,
        summary,
    })
}

/// Every OpenClaw installation under the home (and the extra state folders), and the skills
/// folders to look in, in the order they are reported: each installation's managed, workshop and
/// extra folders, then `~/.agents/skills`, then each workspace's two.
fn plan_locations(walker: &mut Walker<'_>) -> (Vec<Installation>, Vec<PlannedLocation>) {
    let options = walker.options;
    let mut installations = Vec::new();
    let mut planned = Vec::new();
    let mut workspaces: Vec<PathBuf> = Vec::new();
    let mut state_dirs: Vec<(PathBuf, String)> =
        STATE_DIRS.iter().map(|(dir, kind)| (options.home.join(dir), (*kind).to_owned())).collect();
    state_dirs.extend(options.extra_state_dirs.iter().map(|dir| (dir.clone(), "openclaw".to_owned())));
    for (state_dir, kind) in state_dirs {
        if !walker.admit(&state_dir, true, "state folder") {
            continue;
        }
        let mut installation =
            Installation { kind, state_dir: walker.show(&state_dir), config: None, workspaces: Vec::new() };
        let named = read_installation_config(walker, &state_dir, &mut installation);
        let mut named_workspaces = named.workspaces;
        // OpenClaw's default workspace, when the config names none.
        if named_workspaces.is_empty() {
            named_workspaces.push(state_dir.join("workspace"));
        }
        for ws in named_workspaces {
            if walker.admit(&ws, true, "workspace") && !workspaces.contains(&ws) {
                installation.workspaces.push(walker.show(&ws));
                workspaces.push(ws);
            }
        }
        planned.push(PlannedLocation::new(state_dir.join("skills"), "managed", state_dir.clone()));
        planned.extend(workshop_locations(walker, &state_dir));
        for dir in named.extra_dirs {
            let owner_dir = dir.parent().map(Path::to_path_buf).unwrap_or_else(|| dir.clone());
            planned.push(PlannedLocation::new(dir, "extra", owner_dir));
        }
        installations.push(installation);
    }
    planned.push(PlannedLocation::new(
        options.home.join(".agents/skills"),
        "user-agents",
        options.home.join(".agents"),
    ));
    for ws in &workspaces {
        planned.push(PlannedLocation::new(ws.join("skills"), "workspace", ws.clone()));
        planned.push(PlannedLocation::new(ws.join(".agents/skills"), "workspace-agents", ws.clone()));
    }
    (installations, planned)
}

/// What an installation's config names, resolved against its state folder.
#[derive(Default)]
struct NamedFolders {
    workspaces: Vec<PathBuf>,
    extra_dirs: Vec<PathBuf>,
}

/// The first config of the state folder that exists (`openclaw.json`, then the legacy names):
/// recorded in `installation`, read and parsed, its problems reported.
fn read_installation_config(
    walker: &mut Walker<'_>,
    state_dir: &Path,
    installation: &mut Installation,
) -> NamedFolders {
    let mut named = NamedFolders::default();
    for name in CONFIG_NAMES {
        let path = state_dir.join(name);
        if !walker.admit(&path, false, "config") {
            continue;
        }
        installation.config = Some(walker.show(&path));
        let text = match crate::clawhub::state::read_state_file_limited(
            &fs::canonicalize(&path).unwrap_or(path.clone()),
            MAX_CONFIG_BYTES,
        ) {
            Ok(Some(text)) => text,
            Ok(None) => break,
            Err(e) => {
                walker.problem(&path, "warning", e.to_string());
                break;
            }
        };
        match parse_config(&text) {
            Err(reason) => walker.problem(&path, "warning", format!("{reason}; its workspaces are unknown")),
            Ok(config) => {
                let paths = config_paths(&config);
                for problem in &paths.problems {
                    walker.problem(&path, "warning", format!("{problem}; ignored"));
                }
                if let Some(ws) = &paths.default_workspace {
                    named.workspaces.push(walker.resolve(ws, state_dir));
                }
                for (_, ws) in &paths.agent_workspaces {
                    named.workspaces.push(walker.resolve(ws, state_dir));
                }
                named.extra_dirs.extend(paths.extra_dirs.iter().map(|d| walker.resolve(d, state_dir)));
            }
        }
        break;
    }
    named
}

/// `<state>/agents/<id>/agent/workshop-skills`, one per agent folder, by agent id.
fn workshop_locations(walker: &mut Walker<'_>, state_dir: &Path) -> Vec<PlannedLocation> {
    let agents_dir = state_dir.join("agents");
    if !walker.admit(&agents_dir, true, "agents folder") {
        return Vec::new();
    }
    let Ok(entries) = fs::read_dir(&agents_dir) else {
        return Vec::new();
    };
    let mut ids: Vec<String> =
        entries.filter_map(Result::ok).map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    ids.sort();
    ids.into_iter()
        .map(|id| {
            let agent_dir = agents_dir.join(&id).join("agent");
            PlannedLocation {
                path: agent_dir.join("workshop-skills"),
                kind: "workshop",
                agent: Some(id),
                owner_dir: agent_dir,
            }
        })
        .collect()
}

/// Each planned skills folder that exists (once, however many ways lead to it), its skills
/// inspected against the `skills.lock` of its owner folder; then each owner folder's
/// `.clawhub/lock.json` against what was found.
fn visit_locations(walker: &mut Walker<'_>, planned: Vec<PlannedLocation>) -> (Vec<Location>, Vec<InstalledSkill>) {
    let mut seen: BTreeSet<PathBuf> = BTreeSet::new();
    let mut locations = Vec::new();
    let mut skills = Vec::new();
    let mut locks: BTreeMap<PathBuf, Result<Option<SkillsLock>, String>> = BTreeMap::new();
    let mut owner_dirs: Vec<PathBuf> = Vec::new();
    for plan in planned {
        let exists = walker.admit(&plan.path, true, "skills folder");
        let lock_path = plan.owner_dir.join("skills.lock");
        let mut location = Location {
            path: walker.show(&plan.path),
            kind: plan.kind,
            agent: plan.agent.clone(),
            exists,
            skills: 0,
            lock: walker.show(&lock_path),
        };
        if !exists {
            locations.push(location);
            continue;
        }
        let real = fs::canonicalize(&plan.path).unwrap_or_else(|_| plan.path.clone());
        if !seen.insert(real.clone()) {
            continue;
        }
        // Several skills folders can share one skills.lock: its problem is reported once.
        let first_look = !locks.contains_key(&lock_path);
        let lock = locks.entry(lock_path.clone()).or_insert_with(|| load_lock(&lock_path)).clone();
        if let (true, Err(reason)) = (first_look, &lock) {
            walker.problem(&lock_path, "warning", reason.clone());
        }
        let found_paths = find_skills(walker, &plan.path, &real, &location.path);
        location.skills = found_paths.len();
        for path in found_paths {
            skills.push(inspect(walker, walker.options, &plan, &location, &path, &lock, &lock_path));
        }
        if !owner_dirs.contains(&plan.owner_dir) {
            owner_dirs.push(plan.owner_dir.clone());
        }
        locations.push(location);
    }
    for owner_dir in &owner_dirs {
        check_clawhub_lock(walker, owner_dir, &skills);
    }
    (locations, skills)
}

/// The skill folders in a skills folder (`real` is where it resolves to, `shown` how it is
/// named), sorted. Links to skill folders are OpenClaw's rule: one that resolves inside the
/// skills folder is listed under its target, one that escapes is an integrity problem.
fn find_skills(walker: &mut Walker<'_>, dir: &Path, real: &Path, shown: &str) -> Vec<PathBuf> {
    let walk = crate::guard::skill_dirs::find(dir);
    for (dir, reason) in &walk.unreadable {
        walker.problem(dir, "warning", format!("cannot be listed: {reason}"));
    }
    for (link, target) in &walk.links {
        match fs::canonicalize(link) {
            Ok(resolved) if resolved.starts_with(real) => {
                // Inside its skills folder: OpenClaw loads it, and the folder it points to is
                // listed on its own (or will be, if it is a skill).
                walker.problem(
                    link,
                    "warning",
                    format!("is a link to \"{target}\" inside {shown}; listed under its target"),
                );
            }
            Ok(resolved) => walker.problem(
                link,
                "integrity",
                format!(
                    "skill folder is a link to \"{target}\" ({}), outside {shown}; OpenClaw refuses it unless \
                     skills.load.allowSymlinkTargets allows it; not inspected",
                    resolved.display(),
                ),
            ),
            Err(e) => walker.problem(link, "warning", format!("is a link to \"{target}\" that does not resolve: {e}")),
        }
    }
    let mut found = walk.skills;
    found.sort();
    found
}

fn summarize(installations: usize, skills: &[InstalledSkill], problems: usize) -> InventorySummary {
    let mut summary = InventorySummary { installations, skills: skills.len(), problems, ..InventorySummary::default() };
    for skill in skills {
        summary.modified_since_install += usize::from(skill.modified_since_install == Some(true));
        summary.pin_mismatch += usize::from(skill.pin.status == "modified");
        summary.unpinned += usize::from(matches!(skill.pin.status, "unpinned" | "no-lock"));
        summary.other_registry += usize::from(skill.from_mirror == Some(false));
        summary.unmanaged += usize::from(skill.registry.is_none());
        summary.failing_scan += usize::from(skill.scan.as_ref().is_some_and(|s| s.fails_policy));
    }
    summary
}

fn load_lock(path: &Path) -> Result<Option<SkillsLock>, String> {
    match crate::clawhub::state::read_state_file_limited(path, MAX_FILE_LIST_BYTES) {
        Err(e) => Err(e.to_string()),
        Ok(None) => Ok(None),
        Ok(Some(text)) => SkillsLock::parse(&text).map(Some).map_err(|e| e.to_string()),
    }
}

/// Entries of the owner folder's `.clawhub/lock.json` whose key could point outside `skills/`,
/// or whose folder is gone, are reported; a corrupt file too.
fn check_clawhub_lock(walker: &mut Walker<'_>, owner_dir: &Path, skills: &[InstalledSkill]) {
    let (path, lock) = match LockJson::load(owner_dir) {
        Ok(Some(found)) => found,
        Ok(None) => return,
        Err(e) => {
            walker.problem(&LockJson::read_path(owner_dir), "warning", e.to_string());
            return;
        }
    };
    let entries = match lock.entries() {
        Ok(entries) => entries,
        Err(reason) => {
            walker.problem(&path, "warning", reason);
            return;
        }
    };
    for entry in entries {
        match entry.install_dir() {
            Err(reason) => walker.problem(&path, "warning", format!("{reason}; not followed")),
            Ok(dir) => {
                let shown = walker.show(&owner_dir.join(&dir));
                if !skills.iter().any(|s| s.path == shown) {
                    walker.problem(&path, "warning", format!("lists {} but {shown} holds no skill", entry.key));
                }
            }
        }
    }
}

fn inspect(
    walker: &Walker<'_>,
    options: &InventoryOptions<'_>,
    plan: &PlannedLocation,
    location: &Location,
    path: &Path,
    lock: &Result<Option<SkillsLock>, String>,
    lock_path: &Path,
) -> InstalledSkill {
    let shown = walker.show(path);
    let lock_ref = match lock {
        Ok(Some(lock)) => Some((lock, lock_path)),
        _ => None,
    };
    let ci_options = CiOptions {
        lock: lock_ref,
        trust: options.trust,
        require_signatures: false,
        now: options.now,
        limits: IntegrityLimits::default(),
    };
    let (check, digest) = check_skill(&Found { rel: shown.clone(), path: path.to_path_buf() }, &ci_options);
    let mut skill = InstalledSkill {
        name: None,
        path: shown,
        status: SkillStatus::NotScanned,
        location: location.path.clone(),
        location_kind: plan.kind,
        slug: check.slug.clone(),
        owner: check.owner.clone(),
        version: check.version.clone(),
        registry: None,
        from_mirror: None,
        modified_since_install: None,
        pin: PinStatus { status: "no-lock", lock: walker.show(lock_path), files: Vec::new(), detail: None },
        signature: check.signature,
        scan: None,
        problems: Vec::new(),
        notes: check.notes.clone(),
        integrity_failure: false,
    };
    take_checks(&mut skill, &check, lock);
    if let Some(digest) = &digest {
        take_identity_files(&mut skill, digest, path);
    }
    if skill.name.is_none() {
        skill.name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    }
    skill.from_mirror = match (&options.mirror, &skill.registry) {
        (Some(mirror), Some(registry)) => Some(same_registry(mirror, registry)),
        _ => None,
    };
    if let Some(scanner) = options.scanner {
        match scan_summary(scanner, options, path) {
            Ok(summary) => skill.scan = Some(summary),
            Err(e) => skill.problems.push(format!("scan: {e}")),
        }
    }
    skill.status = SkillStatus::of(skill.integrity_failure, skill.scan.as_ref(), !skill.problems.is_empty());
    skill
}

/// What `skillscan ci`'s checks found, as a listing shows it: the pin status, and every problem
/// but "not pinned" and a missing signature (a listing, not a gate).
fn take_checks(skill: &mut InstalledSkill, check: &SkillCheck, lock: &Result<Option<SkillsLock>, String>) {
    match lock {
        Err(reason) => {
            skill.pin.status = "lock-error";
            skill.pin.detail = Some(reason.clone());
        }
        Ok(None) => {}
        Ok(Some(_)) => skill.pin.status = check.pin,
    }
    if skill.signature == "missing" {
        // A listing, not a gate: an unsigned skill is shown as such, whatever the trust store's
        // `require_signature` says (that is for install and ci).
        skill.signature = "none";
    }
    for problem in &check.problems {
        // Likewise a stale mirror signature (edited and re-pinned since): listed, explained.
        let absent_signature = problem.code == "signature" && matches!(check.signature, "missing" | "stale");
        if absent_signature && check.signature == "stale" {
            skill.notes.push(problem.message.clone());
        }
        if problem.code == "not-pinned" || absent_signature {
            continue;
        }
        if matches!(problem.code, "files-changed" | "pin-mismatch") {
            skill.pin.files.extend(problem.files.iter().cloned());
            skill.pin.detail = Some(problem.message.clone());
        }
        skill.integrity_failure |= problem.kind == ProblemKind::Integrity;
        skill.problems.push(format!("{}: {}", problem.code, problem.message));
    }
}

/// The name from the front matter, and what `origin.json` says: registry, slug, and whether the
/// files changed since the install.
fn take_identity_files(skill: &mut InstalledSkill, digest: &SkillDigest, path: &Path) {
    skill.name = digest
        .hints
        .front_matter
        .as_ref()
        .and_then(|f| f.as_ref().ok())
        .and_then(|f| f.name.as_ref())
        .map(|n| crate::engine::text::escape_snippet(n, 100));
    let Some(Ok(origin)) = &digest.hints.origin else {
        return;
    };
    // origin.json is written by whoever can write the folder: its values are checked
    // before anything is shown or compared, and never used as a path.
    if let Some(slug) = origin.slug.as_deref().filter(|s| s.parse::<skillscan_signatures::Slug>().is_err()) {
        skill.problems.push(format!(
            "origin: {} names slug \"{}\", which is not a valid slug (a path?); ignored",
            origin.file,
            crate::engine::text::escape_snippet(slug, 120)
        ));
        skill.integrity_failure = true;
    } else if let Some(slug) = &origin.slug
        && path.file_name().is_some_and(|n| n.to_string_lossy() != slug.as_str())
    {
        skill.notes.push(format!("{} names slug {slug}, but the folder is named otherwise", origin.file));
    }
    if let Some(registry) =
        origin.registry.as_deref().filter(|r| crate::clawhub::client::validate_registry_url(r).is_err())
    {
        skill.problems.push(format!(
            "origin: {} names registry \"{}\", which is not an http(s) registry URL",
            origin.file,
            crate::engine::text::escape_snippet(registry, 120)
        ));
    }
    skill.registry = origin.registry.as_ref().map(|r| crate::engine::text::escape_snippet(r, 300));
    skill.modified_since_install = origin.fingerprint.and_then(|recorded| {
        if recorded == digest.clawhub_fingerprint() {
            Some(false)
        } else if digest.all_files.iter().any(|f| !f.path.is_ascii()) {
            // Our port of the CLI's localeCompare order is exact for ASCII names only.
            None
        } else {
            Some(true)
        }
    });
}

/// The scan of one skill folder, inline ignores off, summed up: verdict, worst severity, the
/// worst three active findings.
fn scan_summary(
    scanner: &Scanner,
    options: &InventoryOptions<'_>,
    path: &Path,
) -> Result<ScanSummary, crate::engine::scan::ScanError> {
    let scan_options = ScanOptions { inline_ignores: false, ..options.scan_options.clone() };
    let report = scanner.scan_paths(&[path.to_path_buf()], &scan_options, &|_, _| {})?;
    let verdict = report.skills.iter().map(|s| s.verdict).max().unwrap_or(crate::Verdict::Clean);
    let mut active: Vec<(crate::Severity, String)> = report
        .skills
        .iter()
        .flat_map(|s| s.findings.iter().filter(|f| f.is_active()))
        .map(|f| {
            let at = if f.line > 0 { format!("{}:{}", f.file, f.line) } else { f.file.clone() };
            (f.severity, format!("{} {} {at}", f.severity, f.rule_id))
        })
        .collect();
    active.sort_by_key(|(severity, _)| std::cmp::Reverse(*severity));
    Ok(ScanSummary {
        verdict: verdict.as_str().to_owned(),
        max_severity: report.max_severity().map(|s| s.as_str().to_owned()),
        findings: active.len(),
        top: active.into_iter().take(3).map(|(_, text)| text).collect(),
        fails_policy: report.fails(options.fail_on),
    })
}

pub mod render;

#[cfg(test)]
mod tests;
