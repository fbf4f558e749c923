//! Facts from code, on its syntax tree (Python, JavaScript/TypeScript, shell): which secrets a
//! script reads and where they go, which hosts it talks to, which downloaded files it runs, and
//! which decoded or fetched values it executes.
//!
//! The analysis is deliberately simple and bounded: it collects assignments, calls and function
//! definitions in one walk of the tree, then reasons over their *text*. A name is tainted when
//! the text assigned to it reads a secret or mentions a tainted name; a name holds a URL when the
//! text assigned to it holds one (a literal, or a name that holds one: `BASE + "/v2"`,
//! `f"{BASE}/v2"`, `` `${BASE}/v2` ``, `urljoin(BASE, p)`, `new URL(p, BASE)`). A call is a sink
//! when it sends data over the network, or calls a function of the skill that does (a helper
//! taking the data as a parameter, in this file or another file of the skill). What reaches a
//! sink is reported with both ends named, and the destination resolved where the code says it.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::num::NonZeroU16 as FieldId;
use std::ops::Range;
use std::sync::OnceLock;

use regex::Regex;
use tree_sitter::{Language, Node};

use super::secrets::{self, Owner, Secret, SecretKind};
use crate::engine::lang::{Lang, syntax};
use crate::engine::rules::Services;
use crate::engine::text::builtin_regex;
use crate::engine::urls;

/// A secret read at a place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRef {
    /// Byte range of the read, in the analysed code.
    pub range: Range<usize>,
    pub secret: Secret,
    /// Set when the secret is one of alternatives (`OPENAI_KEY || ANTHROPIC_KEY`): the value
    /// holds one of the secrets sharing this mark, never several at once.
    pub alternative: Option<usize>,
}

/// How data leaves in a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Header,
    Body,
    Query,
    Dns,
    Socket,
    Mail,
    Unknown,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Header => "a request header",
            Channel::Body => "a request body",
            Channel::Query => "a URL",
            Channel::Dns => "a DNS name",
            Channel::Socket => "a raw socket",
            Channel::Mail => "an email",
            Channel::Unknown => "a request",
        }
    }

    /// Channels no service takes its own credentials through.
    pub fn is_covert(self) -> bool {
        matches!(self, Channel::Dns | Channel::Socket)
    }
}

/// Secrets reaching a call that sends data.
#[derive(Debug, Clone)]
pub struct Flow {
    /// Byte range of the call.
    pub call: Range<usize>,
    pub callee: String,
    pub sources: Vec<SourceRef>,
    pub url: Option<String>,
    pub host: Option<String>,
    pub channel: Channel,
}

/// A network call whose destination the code spells out.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub call: Range<usize>,
    pub url: String,
    pub host: String,
    /// The URL reached the call through a variable, not as a literal in it.
    pub through_variable: bool,
}

/// A downloaded file that the same code then runs.
#[derive(Debug, Clone)]
pub struct FetchedRun {
    pub download: Range<usize>,
    pub run: Range<usize>,
    pub url: String,
    pub file: String,
}

/// Code built at run time from decoded or downloaded data and then executed.
#[derive(Debug, Clone)]
pub struct DynamicExec {
    pub call: Range<usize>,
    pub origin: Range<usize>,
    /// `decoded`, `downloaded` or `downloaded and decoded`.
    pub what: &'static str,
    pub callee: String,
}

/// A function of the skill that sends its argument over the network: calls to it are sinks in
/// every file of the skill.
#[derive(Debug, Clone)]
pub struct SinkFunction {
    pub name: String,
    pub url: Option<String>,
    pub host: Option<String>,
    pub channel: Channel,
}

/// A write to one of the agent's own files (instructions, memory, settings), with the path
/// resolved through variables (`agents = root / "AGENTS.md"` … `agents.write_text(…)`).
#[derive(Debug, Clone)]
pub struct AgentFileWrite {
    pub call: Range<usize>,
    pub file: String,
}

#[derive(Debug, Default)]
pub struct CodeFacts {
    pub agent_file_writes: Vec<AgentFileWrite>,
    pub flows: Vec<Flow>,
    pub endpoints: Vec<Endpoint>,
    pub fetched_runs: Vec<FetchedRun>,
    pub dynamic_execs: Vec<DynamicExec>,
    pub sink_functions: Vec<SinkFunction>,
}

// ----------------------------------------------------------------------------------------------
// Sources

fn credential_regex() -> &'static Regex {
    static SOURCE: OnceLock<Regex> = OnceLock::new();
    SOURCE.get_or_init(|| {
        builtin_regex(
            r"(?i)\.ssh/(?:id_\w+|identity)|\.aws/credentials|\.config/gcloud|\.kube/config|\.docker/config\.json|\.npmrc|\.pypirc|\.netrc|\.git-credentials|\.config/gh/hosts|\.gnupg|\.password-store|/etc/shadow|Login Data|\.(?:openclaw|clawdbot|moltbot)/(?:\.env|openclaw\.json|credentials(?:/[\w.-]+)?|agents)|wallet\.dat|solana/id\.json|\.electrum|dump-keychain",
        )
    })
}

fn environment_regex() -> &'static Regex {
    static ENV: OnceLock<Regex> = OnceLock::new();
    ENV.get_or_init(|| {
        builtin_regex(
            r"(?i)(?:dict|str|repr|list|json\.dumps)\s*\(\s*os\.environ\b|os\.environ\.items\s*\(|(?:JSON\.stringify|Object\.(?:entries|keys|values))\s*\(\s*process\.env\s*\)|\{\s*\.\.\.process\.env\s*\}|\bprintenv\b|(?:^|[\s;&(|`])env\s*\||Get-ChildItem\s+env:|\bgci\s+env:",
        )
    })
}

fn clipboard_regex() -> &'static Regex {
    static CLIP: OnceLock<Regex> = OnceLock::new();
    CLIP.get_or_init(|| builtin_regex(r"(?i)\bpbpaste\b|Get-Clipboard|pyperclip\.paste|clipboard\.readText"))
}

/// Recursive listings of the user's working folder or home folder (not of a folder the skill
/// names): the start of a bulk read of the user's files.
fn workspace_regex() -> &'static Regex {
    static WALK: OnceLock<Regex> = OnceLock::new();
    WALK.get_or_init(|| {
        builtin_regex(
            r#"(?x)
            # A glob from the working folder down: "**/*.js", "./**", "**" (JS glob, fast-glob, globby; Python glob, pathlib).
            \b(?:glob|globSync|globby|fg|fastGlob|iglob)(?:\.(?:sync|glob|iglob))?\s*\(\s*[\[]?\s*[fr]?['"`](?:\./)?\*\*
            | \bglob\.i?glob\s*\(\s*[fr]?['"](?:\./)?\*\*
            # pathlib: the working folder or home, walked in full.
            | \bPath\s*\(\s*(?:['"]\.?['"]|os\.getcwd\(\)|\))\s*\)?\s*\.(?:rglob\s*\(|glob\s*\(\s*['"]\*\*)
            | \bPath\.(?:cwd|home)\s*\(\s*\)\s*\.(?:rglob\s*\(|glob\s*\(\s*['"]\*\*)
            # os.walk of the working folder or home.
            | \bos\.walk\s*\(\s*(?:['"]\.?/?['"]|os\.getcwd\(\)|os\.curdir|os\.path\.expanduser\(\s*['"]~/?['"]\s*\)|Path\.(?:home|cwd)\(\))
            # Node: a recursive directory read of the working folder or home.
            | \breaddir(?:Sync)?\s*\(\s*(?:['"`]\.?/?['"`]|process\.cwd\(\)|os\.homedir\(\))\s*,\s*\{[^}]*\brecursive\s*:\s*true
            # An archive of home, or of one of its folders that hold the user's settings or documents
            # as a whole (`~/.config` holds the tokens of many tools); a folder below them is an
            # app's own.
            | \bmake_archive\s*\([^\n]{0,200}?(?:expanduser\(\s*['"]~/?['"]\s*\)\s*\)|Path\.home\(\)\s*\)|['"](?:~/?|(?:~/)?(?:\.config|Documents|Desktop))['"])
            | \b(?:tar|zip)\s+-?\w+\s+(?:[^\s;|&]+\s+)*?(?:~|\$HOME|\$\{HOME\})(?:/(?:\.config|Documents|Desktop))?/?(?:[\s;|&)'"]|$)
            # Shell: every tracked file, or a find from here or home.
            | \bgit\s+ls-files\b
            | \bfind\s+(?:\.|~|\$HOME|\$\{HOME\}|\$PWD|\$\{PWD\})/?\s+(?:-\w+\s+\S+\s+)*-type\s+f\b
            "#,
        )
    })
}

/// Whether code reads the contents of files (what a listing becomes when it is uploaded).
pub fn reads_file_contents(code: &str) -> bool {
    static READ: OnceLock<Regex> = OnceLock::new();
    READ.get_or_init(|| {
        builtin_regex(
            r"\b(?:readFileSync|readFile|read_text|read_bytes|createReadStream)\s*\(|\bopen\s*\([^)
]*\)\s*(?:as\s+\w+\s*:|\.read\s*\()|\.read\s*\(\s*\)|\bxargs\s+(?:-\S+\s+)*cat\b|\btar\s+-?c\w*\b",
        )
    })
    .is_match(code)
}

/// Environment variables read by name, per language.
fn env_read_regex(lang: Lang) -> &'static Regex {
    static PY: OnceLock<Regex> = OnceLock::new();
    static JS: OnceLock<Regex> = OnceLock::new();
    static SH: OnceLock<Regex> = OnceLock::new();
    match lang {
        Lang::Python => PY.get_or_init(|| {
            builtin_regex(
                r#"(?:\benviron(?:\.get|\.setdefault|\.pop)?\s*[\[(]\s*|\bgetenv\s*\(\s*)[fbru]?['"]([A-Za-z_][A-Za-z0-9_]*)['"]"#,
            )
        }),
        Lang::Javascript | Lang::Typescript => JS.get_or_init(|| {
            builtin_regex(
                r#"\b(?:process|Bun|import\.meta)\.env(?:\.([A-Za-z_][A-Za-z0-9_]*)|\[\s*['"`]([A-Za-z_][A-Za-z0-9_]*)['"`]\s*\])|\bDeno\.env\.get\(\s*['"`]([A-Za-z_][A-Za-z0-9_]*)"#,
            )
        }),
        // PowerShell's `$env:NAME` first: the shell form would read it as the variable `env`.
        _ => SH.get_or_init(|| builtin_regex(r"(?i:\$env:)([A-Za-z_][A-Za-z0-9_]*)|\$\{?([A-Za-z_][A-Za-z0-9_]*)")),
    }
}

/// Secrets read in `text` (offsets relative to `text`).
fn sources_in(lang: Lang, text: &str, services: &Services) -> Vec<SourceRef> {
    let mut out = Vec::new();
    for m in credential_regex().find_iter(text) {
        out.push(SourceRef {
            range: m.range(),
            alternative: None,
            secret: Secret {
                kind: SecretKind::CredentialFile,
                name: m.as_str().to_string(),
                owner: secrets::owner_of_file(m.as_str(), services),
            },
        });
    }
    for m in environment_regex().find_iter(text) {
        out.push(SourceRef {
            range: m.range(),
            alternative: None,
            secret: Secret { kind: SecretKind::Environment, name: m.as_str().to_string(), owner: Owner::Unknown },
        });
    }
    for m in workspace_regex().find_iter(text) {
        out.push(SourceRef {
            range: m.range(),
            alternative: None,
            secret: Secret { kind: SecretKind::Workspace, name: m.as_str().to_string(), owner: Owner::Unknown },
        });
    }
    for m in clipboard_regex().find_iter(text) {
        out.push(SourceRef {
            range: m.range(),
            alternative: None,
            secret: Secret { kind: SecretKind::Clipboard, name: m.as_str().to_string(), owner: Owner::Unknown },
        });
    }
    for caps in env_read_regex(lang).captures_iter(text) {
        let Some(name) = caps.iter().skip(1).flatten().next() else { continue };
        if !secrets::is_secret_env_name(name.as_str()) {
            continue;
        }
        let whole = caps.get(0).map_or(name.range(), |m| m.range());
        out.push(SourceRef {
            range: whole,
            alternative: None,
            secret: Secret {
                kind: SecretKind::EnvVar,
                name: name.as_str().to_string(),
                owner: secrets::owner_of_env(name.as_str(), services),
            },
        });
    }
    out
}

/// Cheap test: does this code read a secret or talk to the network, so that its syntax tree is
/// worth building for this analysis?
pub fn worth_a_tree(code: &str) -> bool {
    static QUICK: OnceLock<aho_corasick::AhoCorasick> = OnceLock::new();
    let quick = QUICK.get_or_init(|| {
        aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build([
                "environ",
                "getenv",
                "process.env",
                ".env",
                "$env:",
                "_token",
                "_key",
                "_secret",
                "password",
                ".ssh",
                ".aws",
                "credentials",
                // The other credential files and stores `credential_regex` reads, and the
                // clipboard: a script that reads one and posts to a host held in an options
                // object may spell no URL at all.
                ".kube",
                ".docker",
                ".npmrc",
                ".pypirc",
                ".netrc",
                ".git-credentials",
                "gh/hosts",
                ".gnupg",
                ".password-store",
                "/etc/shadow",
                "login data",
                ".openclaw",
                ".clawdbot",
                ".moltbot",
                "wallet.dat",
                "solana",
                ".electrum",
                "keychain",
                "printenv",
                "pbpaste",
                "clipboard",
                "://",
                "b64decode",
                "atob(",
                "base64",
                "fromhex",
                "urlretrieve",
                "-o ",
                "-O ",
                "fetch(",
                "eval(",
                "exec(",
                "Function(",
                "agents.md",
                "claude.md",
                "soul.md",
                "memory.md",
                "heartbeat.md",
                "identity.md",
                "gemini.md",
                "cursor/rules",
                "settings.json",
                "config.toml",
            ])
            .expect("valid literals")
    });
    quick.is_match(code)
}

// ----------------------------------------------------------------------------------------------
// Sinks

/// The sink function of the skill a call calls, by its full or last name (`api.post` → `post`).
fn wrapper_called<'s>(callee: &str, mut known: impl Iterator<Item = &'s SinkFunction>) -> Option<&'s SinkFunction> {
    let last = last_segment(callee);
    known.find(|s| s.name == last || s.name == callee)
}

impl SinkFunction {
    /// The URL and host the function's own body sends to, when it names them.
    fn destination(&self) -> Option<(String, String)> {
        Some((self.url.clone()?, self.host.clone()?))
    }
}

fn last_segment(callee: &str) -> &str {
    callee.rsplit(['.', ':']).next().unwrap_or(callee)
}

fn network_sink(lang: Lang, callee: &str) -> Option<Channel> {
    let c = callee.to_ascii_lowercase();
    let last = last_segment(&c);
    // `app.post("/hook", handler)` registers a route of the skill's own server (Express,
    // Fastify, Flask, FastAPI): it receives requests, it sends nothing.
    let receiver = c.rsplit_once('.').map_or("", |(r, _)| r.rsplit('.').next().unwrap_or(""));
    if matches!(receiver, "app" | "router" | "server" | "fastify" | "express" | "bp" | "blueprint" | "routes")
        && matches!(last, "get" | "post" | "put" | "patch" | "delete" | "route" | "all" | "use")
    {
        return None;
    }
    match lang {
        Lang::Python => {
            if matches!(last, "gethostbyname" | "gethostbyname_ex" | "getaddrinfo" | "resolve" | "query")
                && (c.contains("socket") || c.contains("dns") || c.contains("resolver") || c == last)
            {
                return Some(Channel::Dns);
            }
            if matches!(last, "send" | "sendall" | "sendto" | "connect") && (c.contains("sock") || c.starts_with("s."))
            {
                return Some(Channel::Socket);
            }
            if matches!(last, "sendmail" | "send_message") {
                return Some(Channel::Mail);
            }
            // `post`/`put`/`patch` send on any client object (`session.post`); `get`/`delete`/
            // `head` only on one that looks like an HTTP client (`os.environ.get` and `dict.get`
            // send nothing); `urllib.parse` helpers send nothing either.
            let receiver = c.rsplit_once('.').map_or("", |(r, _)| r);
            let http_receiver =
                ["session", "client", "http", "api", "requests", "httpx", "conn", "sess", "aiohttp", "urllib3"]
                    .iter()
                    .any(|w| receiver.rsplit('.').next().unwrap_or("").contains(w))
                    || receiver == "s";
            let http = c.starts_with("requests.")
                || c.starts_with("httpx.")
                || c.contains("urlopen")
                || matches!(last, "post" | "put" | "patch" | "request" | "urlopen" | "storbinary")
                || (matches!(last, "get" | "delete" | "head") && http_receiver);
            http.then_some(Channel::Unknown)
        }
        Lang::Javascript | Lang::Typescript => {
            if matches!(last, "lookup" | "resolve" | "resolve4" | "resolvetxt") && c.contains("dns") {
                return Some(Channel::Dns);
            }
            if matches!(last, "write" | "connect" | "createconnection")
                && (c.contains("socket") || c.starts_with("net."))
            {
                return Some(Channel::Socket);
            }
            if last == "sendmail" {
                return Some(Channel::Mail);
            }
            let receiver = c.rsplit_once('.').map_or("", |(r, _)| r);
            let http_receiver = ["axios", "http", "client", "api", "request", "got", "superagent", "instance", "ky"]
                .iter()
                .any(|w| receiver.rsplit('.').next().unwrap_or("").contains(w));
            let http = c == "fetch"
                || c == "axios"
                || c.starts_with("axios.")
                || c.starts_with("got")
                || c.starts_with("superagent")
                || matches!(last, "post" | "put" | "patch" | "request" | "sendbeacon")
                || (matches!(last, "get" | "delete") && http_receiver)
                || matches!(c.as_str(), "http.request" | "https.request" | "http.get" | "https.get")
                || c.ends_with("ws.send");
            http.then_some(Channel::Unknown)
        }
        Lang::Shell | Lang::Powershell => match c.rsplit(['/', '\\']).next().unwrap_or(&c) {
            "curl" | "wget" | "http" | "https" | "xh" | "aria2c" | "invoke-webrequest" | "invoke-restmethod"
            | "iwr" | "irm" | "curl.exe" | "wget.exe" | "start-bitstransfer" => Some(Channel::Unknown),
            "resolve-dnsname" | "nslookup.exe" => Some(Channel::Dns),
            "send-mailmessage" => Some(Channel::Mail),
            "scp" | "sftp" | "ftp" | "rsync" | "nc" | "ncat" | "netcat" | "socat" | "telnet" => Some(Channel::Socket),
            "dig" | "nslookup" | "host" | "drill" | "resolvectl" | "ping" => Some(Channel::Dns),
            "mail" | "sendmail" | "mutt" => Some(Channel::Mail),
            _ => None,
        },
        _ => None,
    }
}

/// Calls that run code given as data.
fn exec_sink(lang: Lang, callee: &str) -> bool {
    let c = callee.to_ascii_lowercase();
    let last = last_segment(&c);
    match lang {
        Lang::Python => {
            matches!(c.as_str(), "exec" | "eval" | "compile" | "os.system" | "os.popen" | "builtins.exec")
                || (c.starts_with("subprocess.")
                    && matches!(last, "run" | "call" | "popen" | "check_output" | "check_call"))
        }
        Lang::Javascript | Lang::Typescript => {
            matches!(c.as_str(), "eval" | "function" | "execsync" | "exec" | "spawn" | "spawnsync" | "execfile")
                || c.ends_with("runinthiscontext")
                || c.ends_with("runinnewcontext")
                || (c.contains("child_process") && matches!(last, "exec" | "execsync" | "spawn" | "spawnsync"))
        }
        Lang::Powershell => is_code_runner(lang, callee),
        _ => false,
    }
}

/// Calls that run source code given as data (as opposed to starting a program).
fn is_code_runner(lang: Lang, callee: &str) -> bool {
    let c = callee.to_ascii_lowercase();
    match lang {
        Lang::Python => matches!(c.as_str(), "exec" | "eval" | "compile" | "builtins.exec"),
        Lang::Javascript | Lang::Typescript => {
            matches!(c.as_str(), "eval" | "function")
                || c.ends_with("runinthiscontext")
                || c.ends_with("runinnewcontext")
        }
        Lang::Powershell => matches!(c.as_str(), "invoke-expression" | "iex"),
        _ => false,
    }
}

/// The text of a call's first argument (up to the first top-level comma).
fn first_argument(args: &str) -> &str {
    let inner = args.trim().strip_prefix('(').unwrap_or(args);
    let mut depth = 0i32;
    for (i, c) in inner.char_indices() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' if depth == 0 => return &inner[..i],
            ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => return &inner[..i],
            _ => {}
        }
    }
    inner
}

// ----------------------------------------------------------------------------------------------
// Collection

#[derive(Debug, Clone)]
struct Call {
    callee: String,
    args: Range<usize>,
    whole: Range<usize>,
}

#[derive(Debug, Clone)]
struct Function {
    name: String,
    params: Vec<String>,
    body: Range<usize>,
}

/// The assignments, calls and functions of a piece of code.
#[derive(Debug, Default)]
pub struct Collected {
    assignments: Vec<(String, Range<usize>)>,
    calls: Vec<Call>,
    functions: Vec<Function>,
    /// Shell: `command > file` — the call index and the file as written.
    redirects: Vec<(usize, String)>,
}

const MAX_DEPTH: usize = 400;

fn node_text<'c>(code: &'c str, node: Node<'_>) -> &'c str {
    code.get(node.byte_range()).unwrap_or("")
}

/// Identifiers of Python or JavaScript code, outside string literals: the words of a URL or a
/// message are not names (`"https://x.example/search"` does not mention a function `search`),
/// but the expressions of f-strings and template literals are.
fn code_identifiers(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut code_from = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if !matches!(b, b'\'' | b'"' | b'`') {
            i += 1;
            continue;
        }
        let prefix = text[..i].bytes().rev().take_while(u8::is_ascii_alphabetic).collect::<Vec<_>>();
        // `f"…"`, `rb'…'`: the letters are the literal's prefix, not a name.
        let string_prefix = prefix.len() <= 2 && prefix.iter().all(|c| b"fFrRbBuU".contains(c));
        let code_end = if string_prefix && b != b'`' { i - prefix.len() } else { i };
        out.extend(references_of(&text[code_from.min(code_end)..code_end]));
        let interpolates = b == b'`' || (string_prefix && prefix.iter().any(|c| matches!(c, b'f' | b'F')));
        let quote: &[u8] = if bytes[i..].starts_with(&[b, b, b]) { &bytes[i..i + 3] } else { &bytes[i..=i] };
        i += quote.len();
        while i < bytes.len() && !bytes[i..].starts_with(quote) {
            match bytes[i] {
                b'\\' => i += 2,
                // Template literals interpolate `${…}`; f-strings `{…}`.
                b'{' if interpolates && (b != b'`' || i > 0 && bytes[i - 1] == b'$') => {
                    let start = i + 1;
                    let mut depth = 1;
                    i += 1;
                    while i < bytes.len() && depth > 0 {
                        match bytes[i] {
                            b'{' => depth += 1,
                            b'}' => depth -= 1,
                            _ => {}
                        }
                        i += 1;
                    }
                    out.extend(references_of(text.get(start..i.saturating_sub(1)).unwrap_or("")));
                }
                _ => i += 1,
            }
        }
        i = (i + quote.len()).min(bytes.len());
        code_from = i;
    }
    out.extend(references_of(text.get(code_from..).unwrap_or("")));
    out
}

/// Identifiers of a piece of code that refer to values: not the name of a keyword argument
/// (`headers=` in `post(url, headers=h)`) nor an object key (`{ headers: h }`), which are
/// labels of the call or the object, not the variables of that name.
fn references_of(text: &str) -> impl Iterator<Item = &str> {
    let base = text.as_ptr() as usize;
    identifiers_of(text).filter(move |word| {
        let start = word.as_ptr() as usize - base;
        let after = text[start + word.len()..].trim_start();
        let keyword_argument = after.starts_with('=') && !after.starts_with("==") && !after.starts_with("=>");
        let before = text[..start].trim_end();
        let object_key = after.starts_with(':')
            && !after.starts_with("::")
            && (before.ends_with('{') || before.ends_with(','))
            && text[start + word.len()..].starts_with(':');
        !(keyword_argument || object_key)
    })
}

fn identifiers_of(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| !w.is_empty())
}

/// What `visit` does with a node, by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Other,
    Assignment,
    VariableDeclarator,
    WithItem,
    ForLoop,
    ShellFor,
    ShellAssignment,
    Function,
    ShellFunction,
    Call,
    ShellCommand,
    Redirected,
    Pipeline,
    PsAssignment,
    PsCommand,
    PsPipeline,
    PsFunction,
}

/// The kinds and fields `visit` reads, as a grammar's numeric ids. A kind name or a field name
/// costs a string comparison or a linear search of the grammar's names per node; the walk
/// visits every node of every tree, so it compares ids instead. The table is built from the
/// grammar's own names (`Node::kind` is the name of `Node::kind_id`), so it picks the same
/// nodes the names did.
struct Grammar {
    /// `Kind` by kind id.
    kinds: Vec<Kind>,
    left: Option<FieldId>,
    right: Option<FieldId>,
    name: Option<FieldId>,
    value: Option<FieldId>,
    alias: Option<FieldId>,
    variable: Option<FieldId>,
    body: Option<FieldId>,
    function: Option<FieldId>,
    constructor: Option<FieldId>,
    arguments: Option<FieldId>,
    parameters: Option<FieldId>,
    redirect: Option<FieldId>,
    destination: Option<FieldId>,
    command_name: Option<FieldId>,
}

impl Grammar {
    fn of(lang: Lang) -> Option<&'static Grammar> {
        static SHELL: OnceLock<Option<Grammar>> = OnceLock::new();
        static PYTHON: OnceLock<Option<Grammar>> = OnceLock::new();
        static JAVASCRIPT: OnceLock<Option<Grammar>> = OnceLock::new();
        static TYPESCRIPT: OnceLock<Option<Grammar>> = OnceLock::new();
        static POWERSHELL: OnceLock<Option<Grammar>> = OnceLock::new();
        let cell = match lang {
            Lang::Shell => &SHELL,
            Lang::Python => &PYTHON,
            Lang::Javascript => &JAVASCRIPT,
            Lang::Typescript => &TYPESCRIPT,
            Lang::Powershell => &POWERSHELL,
            _ => return None,
        };
        cell.get_or_init(|| syntax::grammar(lang).map(|language| Grammar::new(lang, &language))).as_ref()
    }

    fn new(lang: Lang, language: &Language) -> Grammar {
        let kinds = (0..language.node_kind_count())
            .map(|id| {
                let name = u16::try_from(id).ok().and_then(|id| language.node_kind_for_id(id)).unwrap_or("");
                kind_named(lang, name)
            })
            .collect();
        let field = |name: &str| language.field_id_for_name(name);
        Grammar {
            kinds,
            left: field("left"),
            right: field("right"),
            name: field("name"),
            value: field("value"),
            alias: field("alias"),
            variable: field("variable"),
            body: field("body"),
            function: field("function"),
            constructor: field("constructor"),
            arguments: field("arguments"),
            parameters: field("parameters"),
            redirect: field("redirect"),
            destination: field("destination"),
            command_name: field("command_name"),
        }
    }

    fn kind(&self, node: Node<'_>) -> Kind {
        self.kinds.get(usize::from(node.kind_id())).copied().unwrap_or(Kind::Other)
    }
}

/// The node kinds `visit` acts on, per language, by name.
fn kind_named(lang: Lang, kind: &str) -> Kind {
    match (lang, kind) {
        (Lang::Python, "assignment" | "augmented_assignment")
        | (Lang::Javascript | Lang::Typescript, "assignment_expression" | "augmented_assignment_expression") => {
            Kind::Assignment
        }
        (Lang::Javascript | Lang::Typescript, "variable_declarator") => Kind::VariableDeclarator,
        (Lang::Python, "with_item") => Kind::WithItem,
        (Lang::Python, "for_statement" | "for_in_clause")
        | (Lang::Javascript | Lang::Typescript, "for_in_statement") => Kind::ForLoop,
        (Lang::Shell, "for_statement") => Kind::ShellFor,
        (Lang::Shell, "variable_assignment") => Kind::ShellAssignment,
        (Lang::Python, "function_definition")
        | (Lang::Javascript | Lang::Typescript, "function_declaration" | "method_definition") => Kind::Function,
        (Lang::Shell, "function_definition") => Kind::ShellFunction,
        (Lang::Python, "call") | (Lang::Javascript | Lang::Typescript, "call_expression" | "new_expression") => {
            Kind::Call
        }
        (Lang::Shell, "command") => Kind::ShellCommand,
        (Lang::Shell, "redirected_statement") => Kind::Redirected,
        (Lang::Shell, "pipeline") => Kind::Pipeline,
        (Lang::Powershell, "assignment_expression") => Kind::PsAssignment,
        (Lang::Powershell, "command") => Kind::PsCommand,
        (Lang::Powershell, "pipeline_chain") => Kind::PsPipeline,
        (Lang::Powershell, "function_statement") => Kind::PsFunction,
        _ => Kind::Other,
    }
}

/// The child of `node` in field `field`, if the grammar has that field.
fn field<'t>(node: Node<'t>, field: Option<FieldId>) -> Option<Node<'t>> {
    field.and_then(|id| node.child_by_field_id(id.get()))
}

/// Visits the tree in document order with one cursor, without recursion: hostile code nests
/// thousands of brackets deep, and a recursive walk would run out of thread stack long before
/// `MAX_DEPTH` bounds the work. (One cursor, rather than a stack of nodes and a cursor per
/// node to list its children, because the walk touches every node of every tree.)
fn collect(lang: Lang, root: Node<'_>, code: &str, out: &mut Collected) {
    let Some(grammar) = Grammar::of(lang) else { return };
    let mut cursor = root.walk();
    let mut depth = 0usize;
    loop {
        let node = cursor.node();
        let kind = grammar.kind(node);
        if kind != Kind::Other {
            visit(grammar, kind, node, code, out);
        }
        if depth < MAX_DEPTH && cursor.goto_first_child() {
            depth += 1;
            continue;
        }
        loop {
            if depth == 0 {
                return;
            }
            if cursor.goto_next_sibling() {
                break;
            }
            cursor.goto_parent();
            depth -= 1;
        }
    }
}

fn visit(g: &Grammar, kind: Kind, node: Node<'_>, code: &str, out: &mut Collected) {
    match kind {
        Kind::Other => {}
        Kind::Assignment => {
            if let (Some(left), Some(right)) = (field(node, g.left), field(node, g.right)) {
                for name in node_text(code, left).split([',', '(', ')', '[', ']', ' ']).filter(|s| !s.is_empty()) {
                    let name = name.trim_start_matches("self.").trim_start_matches("this.");
                    out.assignments.push((name.to_string(), right.byte_range()));
                }
            }
        }
        Kind::VariableDeclarator => {
            if let (Some(name), Some(value)) = (field(node, g.name), field(node, g.value)) {
                let value_text = node_text(code, value);
                let names = node_text(code, name);
                if matches!(value.kind(), "arrow_function" | "function_expression" | "function") {
                    push_function(g, names, value, code, out);
                }
                // `const { GITHUB_TOKEN: t } = process.env` reads the variable by name.
                let destructures_env = value_text.trim() == "process.env";
                for part in names.split(['{', '}', ',', '[', ']', ' ']).filter(|s| !s.is_empty()) {
                    let (key, local) = part.split_once(':').map_or((part, part), |(k, l)| (k.trim(), l.trim()));
                    if destructures_env {
                        out.assignments.push((local.to_string(), value.byte_range()));
                        out.assignments.push((format!("\u{0}env:{key}"), value.byte_range()));
                    } else if !local.is_empty() {
                        out.assignments.push((local.to_string(), value.byte_range()));
                    }
                }
            }
        }
        Kind::WithItem => {
            if let Some(value) = field(node, g.value)
                && value.kind() == "as_pattern"
                && let (Some(expr), Some(alias)) = (value.child(0), field(value, g.alias))
            {
                out.assignments.push((node_text(code, alias).to_string(), expr.byte_range()));
            }
        }
        Kind::ForLoop => {
            if let (Some(left), Some(right)) = (field(node, g.left), field(node, g.right)) {
                for name in identifiers_of(node_text(code, left)) {
                    out.assignments.push((name.to_string(), right.byte_range()));
                }
            }
        }
        Kind::ShellFor => {
            if let Some(variable) = field(node, g.variable) {
                let values: Vec<Range<usize>> = match g.value {
                    Some(id) => node.children_by_field_id(id, &mut node.walk()).map(|v| v.byte_range()).collect(),
                    None => Vec::new(),
                };
                if let (Some(first), Some(last)) = (values.first(), values.last()) {
                    out.assignments.push((node_text(code, variable).to_string(), first.start..last.end));
                }
            }
        }
        Kind::ShellAssignment => {
            if let (Some(name), Some(value)) = (field(node, g.name), field(node, g.value)) {
                out.assignments.push((node_text(code, name).to_string(), value.byte_range()));
            }
        }
        Kind::Function => {
            if let Some(name) = field(node, g.name) {
                push_function(g, node_text(code, name), node, code, out);
            }
        }
        Kind::ShellFunction => {
            if let (Some(name), Some(body)) = (field(node, g.name), field(node, g.body)) {
                // Shell functions take positional parameters.
                out.functions.push(Function {
                    name: node_text(code, name).to_string(),
                    params: (1..=9).map(|i| i.to_string()).chain(["@".to_string(), "*".to_string()]).collect(),
                    body: body.byte_range(),
                });
            }
        }
        Kind::Call => {
            let callee = field(node, g.function).or_else(|| field(node, g.constructor));
            if let Some(callee) = callee {
                let args = field(node, g.arguments).map_or(callee.end_byte()..node.end_byte(), |a| a.byte_range());
                // `blobs.append(data)`, `parts.push(x)`, `form.update(y)`: the container holds what
                // was put in it, as if assigned (taint and URLs reach it as through `=`).
                let callee_text = node_text(code, callee);
                if let Some((receiver, method)) = callee_text.rsplit_once('.')
                    && matches!(method, "append" | "extend" | "push" | "unshift" | "add" | "update" | "insert")
                {
                    let receiver = receiver.trim_start_matches("self.").trim_start_matches("this.");
                    if !receiver.is_empty() && receiver.chars().all(|c| c.is_alphanumeric() || c == '_') {
                        out.assignments.push((receiver.to_string(), args.clone()));
                    }
                }
                out.calls.push(Call { callee: callee_text.to_string(), args, whole: node.byte_range() });
            }
        }
        Kind::ShellCommand => {
            if let Some(name) = field(node, g.name) {
                let callee = unquote(node_text(code, name));
                out.calls.push(Call { callee, args: name.end_byte()..node.end_byte(), whole: node.byte_range() });
            }
        }
        Kind::Redirected => {
            let body = field(node, g.body);
            let target = match g.redirect {
                Some(id) => node
                    .children_by_field_id(id, &mut node.walk())
                    .filter(|r| r.kind() == "file_redirect")
                    .find(|r| node_text(code, *r).trim_start().starts_with(['>', '1']))
                    .and_then(|r| field(r, g.destination))
                    .map(|d| unquote(node_text(code, d))),
                None => None,
            };
            if let (Some(body), Some(target)) = (body, target)
                && body.kind() == "command"
            {
                // The command is collected below as the next call.
                out.redirects.push((out.calls.len(), target));
            }
        }
        Kind::PsAssignment => {
            // `$seat = @{ pat = $env:AZURE_DEVOPS_PAT } | ConvertTo-Json`: the left side is the
            // first child (no field), the right side the `value` field.
            if let (Some(left), Some(value)) = (node.named_child(0), field(node, g.value))
                && let Some(name) = ps_variable(node_text(code, left))
            {
                out.assignments.push((name.to_string(), value.byte_range()));
            }
        }
        Kind::PsCommand => {
            if let Some(name) = ps_command_name(g, node) {
                let callee = unquote(node_text(code, name));
                out.calls.push(Call { callee, args: name.end_byte()..node.end_byte(), whole: node.byte_range() });
            }
        }
        Kind::PsFunction => {
            let mut cursor = node.walk();
            let children: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
            let name = children.iter().find(|c| c.kind() == "function_name");
            let body = children.iter().find(|c| c.kind() == "script_block");
            if let (Some(name), Some(body)) = (name, body) {
                // Parameters are declared before the body or in its `param(…)` block.
                let declared: String = children
                    .iter()
                    .filter(|c| c.kind() == "function_parameter_declaration")
                    .map(|c| node_text(code, *c))
                    .chain(body.named_child(0).filter(|b| b.kind() == "param_block").map(|b| node_text(code, b)))
                    .collect::<Vec<_>>()
                    .join(" ");
                let params =
                    declared.split('$').skip(1).filter_map(|p| ps_variable(&format!("${p}")).map(String::from));
                out.functions.push(Function {
                    name: node_text(code, *name).trim().to_string(),
                    params: params.collect(),
                    body: body.byte_range(),
                });
            }
        }
        Kind::PsPipeline => {
            // `@{ k = $env:TOKEN } | ConvertTo-Json | Invoke-RestMethod -Uri …`: what flows down
            // the pipe reaches the later commands. Except `… | iex`: that is the installer shape
            // `powershell-download-exec` judges with the URL's provenance (a vendor's own
            // `irm https://vendor/install.ps1 | iex`), as `curl … | sh` is left to
            // `fetch-pipe-shell`; the split form (`$p = irm $u; iex $p`) is still followed.
            let mut upstream: Option<Range<usize>> = None;
            let mut cursor = node.walk();
            for child in node.named_children(&mut cursor) {
                if child.kind() == "command"
                    && let (Some(up), Some(name)) = (&upstream, ps_command_name(g, child))
                    && !is_code_runner(Lang::Powershell, node_text(code, name))
                {
                    out.calls.push(Call {
                        callee: unquote(node_text(code, name)),
                        args: up.start..child.end_byte(),
                        whole: node.byte_range(),
                    });
                }
                upstream = Some(upstream.map_or(child.byte_range(), |u| u.start..child.end_byte()));
            }
        }
        Kind::Pipeline => {
            // `cat ~/.ssh/id_rsa | curl -d @- …`: what flows down a pipe reaches the later commands.
            let mut upstream: Option<Range<usize>> = None;
            let mut cursor = node.walk();
            for child in node.named_children(&mut cursor) {
                if child.kind() == "command"
                    && let (Some(up), Some(name)) = (&upstream, field(child, g.name))
                {
                    out.calls.push(Call {
                        callee: unquote(node_text(code, name)),
                        args: up.start..child.end_byte(),
                        whole: node.byte_range(),
                    });
                }
                upstream = Some(upstream.map_or(child.byte_range(), |u| u.start..child.end_byte()));
            }
        }
    }
}

/// A PowerShell variable as the analysis names it: `[string]$script:Token` → `Token` (the
/// shell spelling without `$`, so that `$Token` and `${Token}` mention it).
fn ps_variable(text: &str) -> Option<&str> {
    let after = &text[text.rfind('$')? + 1..];
    let after = after.trim_start_matches('{');
    let after = after.split_once(':').filter(|(scope, _)| is_ps_scope(scope)).map_or(after, |(_, name)| name);
    let end = after.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(after.len());
    (end > 0).then(|| &after[..end])
}

fn is_ps_scope(word: &str) -> bool {
    matches!(word.to_ascii_lowercase().as_str(), "script" | "global" | "local" | "private" | "using")
}

/// The program a PowerShell command runs: its name (`Invoke-RestMethod`), or for `& $tool` /
/// `. $script` the expression after the operator.
fn ps_command_name<'t>(g: &Grammar, node: Node<'t>) -> Option<Node<'t>> {
    field(node, g.command_name).or_else(|| {
        let mut cursor = node.walk();
        node.named_children(&mut cursor).find(|c| c.kind() == "command_name_expr")
    })
}

fn push_function(g: &Grammar, name: &str, node: Node<'_>, code: &str, out: &mut Collected) {
    let params = field(node, g.parameters)
        .map(|p| {
            identifiers_of(node_text(code, p))
                .filter(|w| !matches!(*w, "self" | "cls" | "this" | "str" | "int" | "dict" | "string" | "any" | "None"))
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    let body = field(node, g.body).map_or(node.byte_range(), |b| b.byte_range());
    out.functions.push(Function { name: name.trim().to_string(), params, body });
}

fn unquote(word: &str) -> String {
    let w = word.trim();
    let w = w.strip_prefix('"').and_then(|s| s.strip_suffix('"')).unwrap_or(w);
    let w = w.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')).unwrap_or(w);
    w.replace(['"', '\'', '\\'], "")
}

// ----------------------------------------------------------------------------------------------
// Values

/// What the analysis knows about the names of one piece of code.
struct Names<'a> {
    lang: Lang,
    code: &'a str,
    services: &'a Services,
    /// Function bodies, for the scope of a name.
    scopes: Scopes<'a>,
    /// Name → the secrets it holds.
    taint: ScopedMap<Vec<SourceRef>>,
    /// Name → the URL it holds.
    url: ScopedMap<String>,
    /// Name → where it was given decoded or downloaded data.
    dynamic: HashMap<String, (Range<usize>, &'static str)>,
    /// Functions returning a secret (`def token(): return os.environ["GH_TOKEN"]`).
    source_functions: HashMap<String, Vec<SourceRef>>,
}

const MAX_SCOPED_FUNCTIONS: usize = 1500;

/// The scopes of a piece of code: `0` is the module, `i + 1` the body of function `i`.
struct Scopes<'a> {
    functions: &'a [Function],
    /// Every (name, scope) an assignment gives a value, tainted or not.
    assigned: HashSet<(&'a str, usize)>,
    /// The scope of each assignment.
    assignment_scopes: Vec<usize>,
}

impl<'a> Scopes<'a> {
    /// Whether `scope` holds the position `at` (the module holds everything).
    fn holds(&self, scope: usize, at: usize) -> bool {
        scope == 0 || self.functions.get(scope - 1).is_some_and(|f| f.body.start <= at && at < f.body.end)
    }

    fn size(&self, scope: usize) -> usize {
        if scope == 0 { usize::MAX } else { self.functions.get(scope - 1).map_or(usize::MAX, |f| f.body.len()) }
    }

    /// The innermost scope holding `at`.
    fn of(&self, at: usize) -> usize {
        (1..=self.functions.len())
            .filter(|&scope| self.holds(scope, at))
            .min_by_key(|&scope| self.size(scope))
            .unwrap_or(0)
    }

    fn new(functions: &'a [Function], assignments: &'a [(String, Range<usize>)]) -> Self {
        // Looking a scope up is linear in the functions: generated bundles with thousands of
        // them are read as one scope, as they were before scopes.
        let functions = if functions.len() > MAX_SCOPED_FUNCTIONS { &[] } else { functions };
        let mut scopes = Scopes { functions, assigned: HashSet::new(), assignment_scopes: Vec::new() };
        scopes.assignment_scopes = assignments.iter().map(|(_, value)| scopes.of(value.start)).collect();
        scopes.assigned = assignments
            .iter()
            .zip(&scopes.assignment_scopes)
            .map(|((name, _), &scope)| (name.as_str(), scope))
            .collect();
        scopes
    }

    /// Whether `name` is given a value (or is a parameter) in a scope around `at`: then what
    /// it holds there is that value, even when it carries nothing.
    fn binds_around(&self, name: &str, at: usize) -> bool {
        let innermost = self.of(at);
        self.is_parameter(innermost, name)
            || (0..=self.functions.len()).any(|scope| self.holds(scope, at) && self.assigned.contains(&(name, scope)))
    }

    fn is_parameter(&self, scope: usize, name: &str) -> bool {
        scope > 0 && self.functions.get(scope - 1).is_some_and(|f| f.params.iter().any(|p| p == name))
    }
}

/// What names hold, per scope: a function's own `headers` is not another function's.
struct ScopedMap<T> {
    by_name: HashMap<String, Vec<(usize, T)>>,
}

impl<T> ScopedMap<T> {
    fn new() -> Self {
        Self { by_name: HashMap::new() }
    }

    fn contains_name(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    fn contains(&self, name: &str, scope: usize) -> bool {
        self.by_name.get(name).is_some_and(|entries| entries.iter().any(|(s, _)| *s == scope))
    }

    fn insert(&mut self, name: String, scope: usize, value: T) {
        self.by_name.entry(name).or_default().push((scope, value));
    }

    /// What `name` holds where it is used at `at`: the innermost scope around `at` that gives
    /// it a value; nothing when a scope around `at` binds it to a value that carries nothing
    /// (or it is a parameter there); otherwise any scope's value (a global assigned inside
    /// another function).
    fn get(&self, name: &str, at: usize, scopes: &Scopes<'_>) -> Option<&T> {
        let entries = self.by_name.get(name)?;
        let around = entries
            .iter()
            .filter(|(scope, _)| scopes.holds(*scope, at))
            .min_by_key(|(scope, _)| scopes.size(*scope))
            .map(|(_, value)| value);
        if around.is_some() || scopes.binds_around(name, at) {
            return around;
        }
        entries.first().map(|(_, value)| value)
    }
}

/// Adjacent string literals joined (`"https://" + "x.example"` → `"https://x.example"`), or
/// `None` when there are none.
fn join_adjacent_literals(text: &str) -> Option<String> {
    static JOIN: OnceLock<Regex> = OnceLock::new();
    let re = JOIN.get_or_init(|| builtin_regex(r#"(["'])\s*\+?\s*(["'])"#));
    if !text.contains("://") && !text.contains('+') {
        return None;
    }
    let mut changed = false;
    let out = re.replace_all(text, |c: &regex::Captures<'_>| {
        if c[1] == c[2] {
            changed = true;
            String::new()
        } else {
            c[0].to_string()
        }
    });
    changed.then(|| out.into_owned())
}

/// A URL whose host is spelled out (not `https://{host}/…`).
fn clean_url(url: &str) -> Option<(String, String)> {
    let (host, _) = urls::host_and_path(url)?;
    let clean = !host.is_empty()
        && host.contains('.')
        && !host.contains(['{', '}', '$', '<', '%'])
        && host.chars().any(|c| c.is_ascii_alphabetic() || c.is_ascii_digit());
    clean.then(|| (url.to_string(), host))
}

/// The peer of a socket call: `connect({ host: "198.51.100.7", port })`, `connect(port, "h")`,
/// `s.connect(("h", port))`.
fn socket_host(args: &str) -> Option<String> {
    static HOST: OnceLock<Regex> = OnceLock::new();
    let re = HOST.get_or_init(|| {
        builtin_regex(
            r#"(?:\bhost(?:name)?['"]?\s*[:=]\s*|^\s*\(?\s*(?:\d+\s*,\s*)?)['"`]([A-Za-z0-9][A-Za-z0-9.-]*\.[A-Za-z0-9-]+|\d{1,3}(?:\.\d{1,3}){3})['"`]"#,
        )
    });
    re.captures(args).and_then(|c| c.get(1)).map(|m| m.as_str().to_ascii_lowercase())
}

fn host_literal(text: &str) -> Option<String> {
    static HOST: OnceLock<Regex> = OnceLock::new();
    let re = HOST.get_or_init(|| {
        builtin_regex(r#"^\s*[fbr]?['"`]([a-z0-9](?:[a-z0-9-]{0,62}\.)+[a-z]{2,24})(?::\d+)?/?['"`]\s*$"#)
    });
    re.captures(text).and_then(|c| c.get(1)).map(|m| format!("https://{}", m.as_str()))
}

impl Names<'_> {
    /// The names mentioned in `text`: identifiers in Python/JS, `$name`/`${name}` in shell.
    fn mentioned<'t>(&self, text: &'t str) -> Vec<&'t str> {
        if matches!(self.lang, Lang::Shell | Lang::Powershell) {
            let mut out = Vec::new();
            let bytes = text.as_bytes();
            let mut i = 0;
            while let Some(off) = memchr::memchr(b'$', &bytes[i..]) {
                let mut start = i + off + 1;
                if bytes.get(start) == Some(&b'{') {
                    start += 1;
                }
                let word_end = |from: usize| {
                    text[from..]
                        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '@' || c == '*'))
                        .map_or(text.len(), |e| from + e)
                };
                let mut end = word_end(start);
                // PowerShell's `$script:Name` is the variable `Name` (see `ps_variable`).
                if self.lang == Lang::Powershell && bytes.get(end) == Some(&b':') && is_ps_scope(&text[start..end]) {
                    start = end + 1;
                    end = word_end(start);
                }
                if end > start {
                    out.push(&text[start..end]);
                }
                i = end.max(i + off + 1);
            }
            out
        } else {
            code_identifiers(text)
        }
    }

    fn url_of(&self, text: &str, at: usize) -> Option<(String, String, bool)> {
        match literal_url(text) {
            Ok(found) => found.map(|(url, host)| (url, host, false)),
            Err(text) => self.url_through(self.mentioned(&text), at),
        }
    }

    /// The first clean URL one of `mentioned` holds at `at`.
    fn url_through<'t>(
        &self,
        mentioned: impl IntoIterator<Item = &'t str>,
        at: usize,
    ) -> Option<(String, String, bool)> {
        for name in mentioned {
            if let Some(url) = self.url.get(name, at, &self.scopes)
                && let Some((url, host)) = clean_url(url)
            {
                return Some((url, host, true));
            }
        }
        None
    }

    /// Offset in `text` of the first read of a secret or mention of a name holding one.
    fn first_secret_mention(&self, text: &str) -> Option<usize> {
        let direct = sources_in(self.lang, text, self.services).into_iter().map(|s| s.range.start).min();
        let base = text.as_ptr() as usize;
        let named = self
            .mentioned(text)
            .into_iter()
            .filter(|n| self.taint.contains_name(n) || self.source_functions.contains_key(*n))
            .map(|n| n.as_ptr() as usize - base)
            .min();
        match (direct, named) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn secrets_of(&self, text: &str, base: usize) -> Vec<SourceRef> {
        let mut out: Vec<SourceRef> = sources_in(self.lang, text, self.services)
            .into_iter()
            .map(|mut s| {
                s.range = base + s.range.start..base + s.range.end;
                s
            })
            .collect();
        self.add_named_secrets(self.mentioned(text), base, &mut out);
        out
    }

    /// Adds the secrets the names in `mentioned` hold where they are used (`base`).
    fn add_named_secrets<'t>(
        &self,
        mentioned: impl IntoIterator<Item = &'t str>,
        base: usize,
        out: &mut Vec<SourceRef>,
    ) {
        for name in mentioned {
            if let Some(sources) = self.taint.get(name, base, &self.scopes) {
                out.extend(sources.iter().cloned());
            }
            if let Some(sources) = self.source_functions.get(name) {
                out.extend(sources.iter().cloned());
            }
        }
    }
}

/// Names given a constructed object (`new Client(…)`, `OpenAI(api_key=…)`,
/// `genai.Client(…)`): service clients, whose methods answer with the service's data.
fn client_objects<'c>(code: &str, assignments: &'c [(String, Range<usize>)]) -> HashSet<&'c str> {
    assignments
        .iter()
        .filter(|(_, value)| {
            let text = code.get(value.clone()).unwrap_or("").trim_start();
            let text = text.strip_prefix("await ").unwrap_or(text).trim_start();
            let (constructor, rest) = match text.strip_prefix("new ") {
                Some(rest) => (true, rest),
                None => (false, text),
            };
            let callee = &rest[..rest.find('(').unwrap_or(0)];
            let last = callee.rsplit('.').next().unwrap_or("");
            !callee.is_empty()
                && callee.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.')
                && (constructor || last.starts_with(|c: char| c.is_ascii_uppercase()))
                // Value types built from a secret carry it.
                && !matches!(last, "Buffer" | "URL" | "URLSearchParams" | "String" | "Blob" | "TextEncoder" | "Headers" | "FormData" | "Request")
        })
        .map(|(name, _)| name.as_str())
        .collect()
}

/// The arguments of `client.method(…)` when the value is one call of a method of a client
/// object; `None` for anything else (including the string methods that transform a secret).
fn client_call_arguments<'t>(text: &'t str, clients: &HashSet<&str>) -> Option<&'t str> {
    let trimmed = text.trim_start();
    let trimmed = trimmed.strip_prefix("await ").unwrap_or(trimmed).trim_start();
    let open = trimmed.find('(')?;
    let callee = &trimmed[..open];
    let (receiver, method) = callee.split_once('.')?;
    let method = method.rsplit('.').next().unwrap_or(method);
    if !clients.contains(receiver)
        || !callee.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.')
        || matches!(
            method,
            "toString" | "encode" | "decode" | "strip" | "trim" | "replace" | "format" | "split" | "join" | "get"
        )
    {
        return None;
    }
    let inner = &trimmed[open + 1..];
    let close = inner.rfind(')')?;
    // One call only: `client.a(x).b(y)` or `client.a(x) + token` is not.
    let after = inner[close + 1..].trim();
    (after.is_empty() || after == ";").then(|| &inner[..close])
}

/// Whether a function's `return` hands out a secret it reads: directly, or through a local
/// name whose value reads one (`key = os.environ[…]; …; return url, key`). A function that
/// reads a key to call its API and returns the answer does not.
fn returns_a_secret(
    lang: Lang,
    code: &str,
    function: &Function,
    collected: &Collected,
    sinks: &[Option<Channel>],
    services: &Services,
) -> bool {
    let inside = |r: &Range<usize>| function.body.start <= r.start && r.end <= function.body.end;
    let mut carrying: HashSet<&str> = HashSet::new();
    for _ in 0..4 {
        let before = carrying.len();
        for (name, value) in collected.assignments.iter().filter(|(_, v)| inside(v)) {
            // What a request returns is the server's answer, not the key it carried.
            let masked = mask_request_arguments(code, value, &collected.calls, sinks);
            let text = masked.as_deref().unwrap_or_else(|| code.get(value.clone()).unwrap_or(""));
            if !carrying.contains(name.as_str())
                && (!sources_in(lang, text, services).is_empty()
                    || code_identifiers(text).iter().any(|n| carrying.contains(n)))
            {
                carrying.insert(name);
            }
        }
        if carrying.len() == before {
            break;
        }
    }
    let body = code.get(function.body.clone()).unwrap_or("");
    body.match_indices("return").any(|(at, _)| {
        let before_ok = body[..at].chars().next_back().is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        let rest = &body[at + "return".len()..];
        let after_ok = rest.chars().next().is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        if !before_ok || !after_ok {
            return false;
        }
        let returned = statement_text(rest);
        !sources_in(lang, returned, services).is_empty()
            || code_identifiers(returned).iter().any(|n| carrying.contains(n))
    })
}

/// The text of one statement: up to the end of the line, or past it while brackets are open.
fn statement_text(text: &str) -> &str {
    let mut depth = 0i32;
    for (i, c) in text.char_indices() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' if depth == 0 => return &text[..i],
            ')' | ']' | '}' => depth -= 1,
            '\n' | ';' if depth == 0 => return &text[..i],
            _ => {}
        }
    }
    text
}

/// Whether a value is a choice between alternatives at its top level (`a || b`, `a ?? b`,
/// `a or b`): it holds one of them, not all of them together.
fn is_alternation(lang: Lang, text: &str) -> bool {
    let separators: &[&str] = match lang {
        Lang::Python => &[" or "],
        Lang::Javascript | Lang::Typescript => &["||", "??"],
        _ => return false,
    };
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(_) if b == b'\\' => i += 1,
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None => match b {
                b'\'' | b'"' | b'`' => quote = Some(b),
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => depth = depth.saturating_sub(1),
                _ if depth == 0 && separators.iter().any(|sep| bytes[i..].starts_with(sep.as_bytes())) => {
                    return true;
                }
                _ => {}
            },
        }
        i += 1;
    }
    false
}

/// Whether `text` is one string literal whose interpolations (`${…}`, `{…}`) hold no call.
fn is_one_literal(text: &str) -> bool {
    let t = text.trim();
    let Some(quote) = t.chars().next().filter(|c| matches!(c, '"' | '\'' | '`')) else { return false };
    if t.len() < 2 || !t.ends_with(quote) || t[1..t.len() - 1].contains(quote) && quote != '`' {
        return false;
    }
    let inner = &t[1..t.len() - 1];
    // Interpolated expressions must be plain names, not calls that fetch at run time.
    !inner.contains("${") || inner.split("${").skip(1).all(|part| !part.split('}').next().unwrap_or("").contains('('))
}

/// Data fetched over the network and decoded on the way to the code runner.
const DOWNLOADED_AND_DECODED: &str = "downloaded and decoded";

fn decoded_or_downloaded(lang: Lang, text: &str) -> Option<&'static str> {
    static DECODE: OnceLock<Regex> = OnceLock::new();
    static FETCH: OnceLock<Regex> = OnceLock::new();
    let decode = DECODE.get_or_init(|| {
        builtin_regex(
            r"(?i)\b(?:b64decode|b32decode|b85decode|a85decode|decodebytes|unhexlify|fromhex|decompress|marshal\.loads|atob|codecs\.decode|FromBase64String)\s*\(|Buffer\.from\s*\([^)]*['\x22](?:base64|hex)['\x22]|\bfromCharCode\b|\bchr\s*\(",
        )
    });
    let fetch = FETCH.get_or_init(|| {
        builtin_regex(
            r"(?i)\b(?:requests|httpx)\.get\s*\(|\burlopen\s*\(|\bfetch\s*\(|\baxios(?:\.get)?\s*\(|\bhttps?\.get\s*\(|\b(?:Invoke-WebRequest|Invoke-RestMethod|iwr|irm)\s|\.DownloadString\s*\(",
        )
    });
    let _ = lang;
    if decode.is_match(text) {
        Some(if fetch.is_match(text) { DOWNLOADED_AND_DECODED } else { "decoded" })
    } else if fetch.is_match(text) {
        Some("downloaded")
    } else {
        None
    }
}

/// What the taint of an assignment's value is worked out from (see `Names::secrets_of`): the
/// secrets the value reads itself (offsets in `code`), the names it mentions, and the position
/// their scope is looked up at.
fn taint_inputs<'c>(
    names: &Names<'c>,
    code: &'c str,
    value: &Range<usize>,
    calls: &[Call],
    sinks: &[Option<Channel>],
    clients: &HashSet<&str>,
) -> (Vec<SourceRef>, Vec<Cow<'c, str>>, usize) {
    let text = code.get(value.clone()).unwrap_or("");
    // What a request returns is the server's answer, not the secret the request
    // carried: the arguments of network calls inside the value do not taint it.
    let masked = mask_request_arguments(code, value, calls, sinks);
    let text_for_taint = masked.as_deref().unwrap_or(text);
    // A client built with a key (`genai = Client(key)`) answers its method calls
    // with the service's data: `genai.generate(prompt)` carries the prompt, not the key.
    let (part, base) = match client_call_arguments(text_for_taint, clients) {
        Some(args) => (args, value.start + (args.as_ptr() as usize - text_for_taint.as_ptr() as usize)),
        None => (text_for_taint, value.start),
    };
    let direct = sources_in(names.lang, part, names.services)
        .into_iter()
        .map(|mut s| {
            s.range = base + s.range.start..base + s.range.end;
            s
        })
        .collect();
    let mentioned = match &masked {
        None => {
            // `part` is a slice of `text`, so of `code`.
            let start = base - value.start;
            let part = text.get(start..start + part.len()).unwrap_or("");
            names.mentioned(part).into_iter().map(Cow::Borrowed).collect()
        }
        Some(_) => names.mentioned(part).into_iter().map(|n| Cow::Owned(n.to_string())).collect(),
    };
    (direct, mentioned, base)
}

/// The URL `text` spells out (`Ok(Some)`), a host literal that makes no clean URL (`Ok(None)`:
/// no URL at all), or neither: then the text (adjacent literals joined) whose names may hold
/// one (`Err`).
fn literal_url(text: &str) -> Result<Option<(String, String)>, Cow<'_, str>> {
    // `"https://" + "host.example"` and `'https://' 'host'` spell one literal.
    let joined = join_adjacent_literals(text);
    let spelled = joined.as_deref().unwrap_or(text);
    for (_, url) in urls::find_urls(spelled) {
        if let Some(found) = clean_url(url) {
            return Ok(Some(found));
        }
    }
    if let Some(url) = host_literal(spelled).or_else(|| options_host(spelled)) {
        return Ok(clean_url(&url));
    }
    Err(joined.map_or(Cow::Borrowed(text), Cow::Owned))
}

/// The host of a request's options object: `{ hostname: 'api.example.com', path: '/v1' }`
/// (Node's `http.request(options)`), `{'host': 'api.example.com'}`.
fn options_host(text: &str) -> Option<String> {
    static HOST: OnceLock<Regex> = OnceLock::new();
    let re = HOST.get_or_init(|| {
        builtin_regex(
            r#"(?:^|[{,\s])['"]?(?:hostname|host)['"]?\s*:\s*['"`]([a-z0-9](?:[a-z0-9-]{0,62}\.)+[a-z]{2,24})(?::\d+)?['"`]"#,
        )
    });
    let host = re.captures(text).and_then(|c| c.get(1))?;
    Some(format!("https://{}", host.as_str()))
}

// ----------------------------------------------------------------------------------------------
// Analysis

/// The facts of one piece of code. `foreign` are sink functions defined in other files of the
/// skill (a helper module the code imports).
pub fn analyse(
    lang: Lang,
    tree: &tree_sitter::Tree,
    code: &str,
    services: &Services,
    foreign: &[SinkFunction],
) -> CodeFacts {
    let collected = collect_tree(lang, tree, code);
    Model::new(lang, &collected, code, services).facts(foreign)
}

/// The assignments, calls and functions of a piece of code, read off its syntax tree.
pub fn collect_tree(lang: Lang, tree: &tree_sitter::Tree, code: &str) -> Collected {
    let mut collected = Collected::default();
    collect(lang, tree.root_node(), code, &mut collected);
    collected
}

/// What the names of one piece of code hold and which of its functions send their argument
/// over the network. Worked out once per piece of code; its facts then depend only on the sink
/// functions of the skill's other files ([`Model::facts`]).
pub struct Model<'a> {
    lang: Lang,
    code: &'a str,
    collected: &'a Collected,
    names: Names<'a>,
    /// Per call of `collected.calls`: the channel when it sends over the network.
    sinks: Vec<Option<Channel>>,
    /// The code's own sink functions.
    own_sinks: Vec<SinkFunction>,
}

/// What the fixed point over names reads of one assignment: the same every round, so worked
/// out once (lazily, as the rounds first need it).
#[derive(Default)]
struct AssignmentCache<'c> {
    /// The secrets the value reads itself (offsets in the code), the names it mentions, and
    /// where they are looked up (see `Names::secrets_of`).
    taint: Option<(Vec<SourceRef>, Vec<Cow<'c, str>>, usize)>,
    is_alternation: bool,
    /// The URL the value spells out (`Ok`), or the names through which it may hold one.
    url: Option<Result<Option<String>, Vec<Cow<'c, str>>>>,
    /// Whether the value decodes or downloads data, and the names it mentions.
    dynamic: Option<(Option<&'static str>, Vec<&'c str>)>,
}

impl<'a> Model<'a> {
    pub fn new(lang: Lang, collected: &'a Collected, code: &'a str, services: &'a Services) -> Model<'a> {
        let sinks: Vec<Option<Channel>> = collected.calls.iter().map(|c| network_sink(lang, &c.callee)).collect();
        let mut names = Names {
            lang,
            code,
            services,
            scopes: Scopes::new(&collected.functions, &collected.assignments),
            taint: ScopedMap::new(),
            url: ScopedMap::new(),
            dynamic: HashMap::new(),
            source_functions: HashMap::new(),
        };

        // Functions that return a secret.
        for function in &collected.functions {
            let body = code.get(function.body.clone()).unwrap_or("");
            // Shell and PowerShell functions return what they print.
            let prints = matches!(lang, Lang::Shell | Lang::Powershell);
            if body.contains("return") || prints {
                let found = sources_in(lang, body, services);
                if !found.is_empty() && (prints || returns_a_secret(lang, code, function, collected, &sinks, services))
                {
                    let base = function.body.start;
                    // A call returns one value: the keys of its branches are alternatives
                    // (`if openai { return OPENAI_KEY } return ELEVEN_KEY`), one slot of a request.
                    names.source_functions.insert(
                        function.name.clone(),
                        found
                            .into_iter()
                            .map(|mut s| {
                                s.range = base + s.range.start..base + s.range.end;
                                s.alternative.get_or_insert(base);
                                s
                            })
                            .collect(),
                    );
                }
            }
        }

        let clients = client_objects(code, &collected.assignments);

        // Fixed point over assignments (bounded: each round adds at least one fact).
        let mut cache: Vec<AssignmentCache<'a>> =
            std::iter::repeat_with(AssignmentCache::default).take(collected.assignments.len()).collect();
        for _ in 0..8 {
            let mut changed = false;
            for (index, (name, value)) in collected.assignments.iter().enumerate() {
                if matches!(name.as_str(), "this" | "self" | "cls" | "_") {
                    continue;
                }
                if name.starts_with("\u{0}env:") {
                    continue;
                }
                let text = code.get(value.clone()).unwrap_or("");
                let cached = &mut cache[index];
                let scope = names.scopes.assignment_scopes[index];
                if !names.taint.contains(name, scope) {
                    let (direct, mentioned, base) = cached.taint.get_or_insert_with(|| {
                        cached.is_alternation = is_alternation(lang, text);
                        taint_inputs(&names, code, value, &collected.calls, &sinks, &clients)
                    });
                    let mut found = direct.clone();
                    names.add_named_secrets(mentioned.iter().map(|n| n.as_ref()), *base, &mut found);
                    if cached.is_alternation {
                        for source in &mut found {
                            source.alternative.get_or_insert(value.start);
                        }
                    }
                    // `const { GITHUB_TOKEN } = process.env`: the destructured key is the variable.
                    if text.trim() == "process.env" && secrets::is_secret_env_name(name) {
                        found.push(SourceRef {
                            range: value.clone(),
                            alternative: None,
                            secret: Secret {
                                kind: SecretKind::EnvVar,
                                name: name.clone(),
                                owner: secrets::owner_of_env(name, services),
                            },
                        });
                    }
                    if !found.is_empty() {
                        names.taint.insert(name.clone(), scope, found);
                        changed = true;
                    }
                }
                if !names.url.contains(name, scope) {
                    let spelled = cached.url.get_or_insert_with(|| match literal_url(text) {
                        Ok(found) => Ok(found.map(|(url, _)| url)),
                        Err(Cow::Borrowed(text)) => Err(names.mentioned(text).into_iter().map(Cow::Borrowed).collect()),
                        Err(Cow::Owned(text)) => {
                            Err(names.mentioned(&text).into_iter().map(|n| Cow::Owned(n.to_string())).collect())
                        }
                    });
                    let url = match spelled {
                        Ok(url) => url.clone(),
                        Err(mentioned) => {
                            names.url_through(mentioned.iter().map(|n| n.as_ref()), value.start).map(|(url, _, _)| url)
                        }
                    };
                    if let Some(url) = url {
                        names.url.insert(name.clone(), scope, url);
                        changed = true;
                    }
                }
                if !names.dynamic.contains_key(name) {
                    let (decoded, mentioned) = cached
                        .dynamic
                        .get_or_insert_with(|| (decoded_or_downloaded(lang, text), names.mentioned(text)));
                    let inherited = mentioned.iter().find_map(|n| names.dynamic.get(*n).map(|(_, what)| *what));
                    // Decoding what was downloaded keeps both facts: the server still decides
                    // what runs.
                    let fetched = mentioned
                        .iter()
                        .any(|n| names.dynamic.get(*n).is_some_and(|(_, what)| what.contains("downloaded")));
                    let origin = match *decoded {
                        Some("decoded") if fetched => Some(DOWNLOADED_AND_DECODED),
                        Some(what) => Some(what),
                        None => inherited,
                    };
                    if let Some(what) = origin {
                        names.dynamic.insert(name.clone(), (value.clone(), what));
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }

        // Sink functions: a function passing one of its parameters to a network call, or to
        // another sink function of this code (`registerInstall(acct)` calling `send(url, body,
        // headers)`, which calls `https.request`): found in rounds, one level of wrapping each.
        let mut own_sinks: Vec<SinkFunction> = Vec::new();
        let mut fresh = 0;
        for round in 0..4 {
            // After the first round a function can only become a sink by calling one found in
            // the round before: the others were judged already.
            let newly = &own_sinks[fresh..];
            let worth = |body: &str| round == 0 || newly.iter().any(|k| body.contains(k.name.as_str()));
            let found = Self::sink_functions_over(code, collected, &names, &sinks, &own_sinks, worth);
            if found.is_empty() {
                break;
            }
            fresh = own_sinks.len();
            own_sinks.extend(found);
        }
        Model { lang, code, collected, names, sinks, own_sinks }
    }

    /// The functions not yet in `known` that pass a parameter to a network call or to a
    /// function in `known`.
    fn sink_functions_over(
        code: &str,
        collected: &Collected,
        names: &Names<'_>,
        sinks: &[Option<Channel>],
        known: &[SinkFunction],
        worth: impl Fn(&str) -> bool,
    ) -> Vec<SinkFunction> {
        let mut own_sinks = Vec::new();
        for function in &collected.functions {
            if known.iter().any(|k| k.name == function.name) || !worth(code.get(function.body.clone()).unwrap_or("")) {
                continue;
            }
            let inside = |r: &Range<usize>| function.body.start <= r.start && r.end <= function.body.end;
            // Names in the body that carry a parameter (`payload = urlencode(fields)`).
            let mut carried: Vec<&str> = function.params.iter().map(String::as_str).collect();
            for _ in 0..4 {
                let before = carried.len();
                for (name, value) in collected.assignments.iter().filter(|(_, v)| inside(v)) {
                    let text = code.get(value.clone()).unwrap_or("");
                    if !carried.contains(&name.as_str()) && names.mentioned(text).iter().any(|n| carried.contains(n)) {
                        carried.push(name);
                    }
                }
                if carried.len() == before {
                    break;
                }
            }
            for (call, sink) in collected.calls.iter().zip(sinks).filter(|(c, _)| inside(&c.whole)) {
                let via = match sink {
                    Some(_) => None,
                    None => wrapper_called(&call.callee, known.iter()),
                };
                let Some(channel) = sink.or(via.map(|v| v.channel)) else { continue };
                let args = code.get(call.args.clone()).unwrap_or("");
                let mentioned = names.mentioned(args);
                if carried.iter().any(|p| mentioned.contains(p)) {
                    // A wrapper whose own body names the destination sends there.
                    let resolved = via
                        .and_then(SinkFunction::destination)
                        .or_else(|| names.url_of(args, call.args.start).map(|r| (r.0, r.1)));
                    own_sinks.push(SinkFunction {
                        name: function.name.clone(),
                        url: resolved.as_ref().map(|r| r.0.clone()),
                        host: resolved.map(|r| r.1),
                        channel,
                    });
                    break;
                }
            }
        }
        own_sinks
    }

    /// The functions of this code that send their argument over the network.
    pub fn sink_functions(&self) -> &[SinkFunction] {
        &self.own_sinks
    }

    /// The facts of the code, given the sink functions of the skill's other files it may call.
    pub fn facts(&self, foreign: &[SinkFunction]) -> CodeFacts {
        let Model { lang, code, collected, ref names, ref sinks, ref own_sinks } = *self;
        let mut facts = CodeFacts::default();
        let sink_functions: Vec<&SinkFunction> = foreign.iter().chain(own_sinks).collect();
        facts.sink_functions =
            own_sinks.iter().filter(|s| !foreign.iter().any(|f| f.name == s.name)).cloned().collect();

        let mut seen = BTreeSet::new();
        // `import { connect } from "node:net"`: a bare `connect(…)` opens a raw socket.
        let imports_net = matches!(lang, Lang::Javascript | Lang::Typescript)
            && ["\"net\"", "'net'", "\"node:net\"", "'node:net'", "\"tls\"", "'tls'", "\"node:tls\"", "'node:tls'"]
                .iter()
                .any(|m| code.contains(m));
        let handles = request_handles(lang, collected, sinks, names);
        for (call, sink) in collected.calls.iter().zip(sinks) {
            let args = code.get(call.args.clone()).unwrap_or("");
            let direct = sink.or_else(|| {
                (imports_net && matches!(call.callee.as_str(), "connect" | "createConnection"))
                    .then_some(Channel::Socket)
            });
            // `req.write(body)` on `const req = https.request(options)`: the data goes where the
            // request goes.
            let handle = if direct.is_none() { handle_written(&call.callee, &handles) } else { None };
            let wrapper = if direct.is_none() && handle.is_none() {
                wrapper_called(&call.callee, sink_functions.iter().copied())
            } else {
                None
            };
            let direct = direct.or(handle.map(|_| Channel::Body));
            if let Some(channel) = direct.or(wrapper.map(|w| w.channel)) {
                // A call of the skill's own wrapper (`get(API + path)` where `get` calls
                // `urlopen`) reaches the host as surely as the library call inside it. A wrapper
                // whose body names its destination (`post(payload)` calling `fetch(HOOK, …)`) sends
                // there whatever its arguments are: they are the data, not the address.
                let own = wrapper
                    .and_then(SinkFunction::destination)
                    .map(|(url, host)| (url, host, true))
                    .or_else(|| handle.cloned());
                let resolved = own.or_else(|| names.url_of(args, call.args.start));
                if let Some((url, host, through_variable)) = &resolved {
                    facts.endpoints.push(Endpoint {
                        call: call.whole.clone(),
                        url: url.clone(),
                        host: host.clone(),
                        through_variable: *through_variable,
                    });
                }
                let mut sources = names.secrets_of(args, call.args.start);
                // `rsync -e "ssh -i ~/.ssh/id_nas" …`, `scp -i key …`: a key given to ssh signs
                // the connection, it is not sent.
                if matches!(lang, Lang::Shell | Lang::Powershell) {
                    sources.retain(|s| !signs_the_connection(code, call.args.clone(), s.range.start));
                }
                if sources.is_empty() || !seen.insert(call.whole.start) {
                    continue;
                }
                let channel = if channel == Channel::Unknown {
                    channel_of(args, names.first_secret_mention(args))
                } else {
                    channel
                };
                let host = match channel {
                    Channel::Dns => dns_domain(args).or_else(|| resolved.as_ref().map(|r| r.1.clone())),
                    Channel::Socket => resolved.as_ref().map(|r| r.1.clone()).or_else(|| socket_host(args)),
                    _ => resolved.as_ref().map(|r| r.1.clone()),
                };
                sources.sort_by_key(|s| s.range.start);
                sources.dedup_by(|a, b| a.secret == b.secret);
                facts.flows.push(Flow {
                    call: call.whole.clone(),
                    callee: call.callee.clone(),
                    sources,
                    url: resolved.map(|r| r.0),
                    host,
                    channel,
                });
            } else if exec_sink(lang, &call.callee) {
                // Code runners (`exec`, `eval`, `Function`) run whatever they are given; program
                // runners (`subprocess.run`, `os.system`, `execSync`) only count when the program
                // itself is the data (`os.system(cmd)`), not when the data is an argument of a
                // program the script names (`subprocess.run(["ffmpeg", url])`).
                let code_runner = is_code_runner(lang, &call.callee);
                let first = first_argument(args);
                let mentioned = if code_runner { names.mentioned(args) } else { names.mentioned(first) };
                let bare = code_runner
                    || names.mentioned(first).len() == 1
                        && first.trim().chars().all(|c| c.is_alphanumeric() || c == '_' || c == '$');
                let runs = if code_runner { args } else { first };
                // A literal script that itself downloads something (`node -e "https.get(…)"`) runs
                // code written in the skill, not downloaded data; decoding inside one stays suspect.
                let literal_download = |text: &str| {
                    decoded_or_downloaded(lang, text).filter(|w| *w != "downloaded" || !is_one_literal(text))
                };
                let origin = literal_download(runs)
                    .map(|what| (call.args.clone(), what))
                    .or_else(|| mentioned.iter().find_map(|n| names.dynamic.get(*n).cloned()))
                    .filter(|_| bare || literal_download(first).is_some());
                if let Some((origin, what)) = origin {
                    facts.dynamic_execs.push(DynamicExec {
                        call: call.whole.clone(),
                        origin,
                        what,
                        callee: call.callee.clone(),
                    });
                }
            }
        }
        facts.agent_file_writes = agent_file_writes(lang, collected, code);
        if lang == Lang::Shell {
            facts.fetched_runs = fetched_runs(collected, names);
        } else if lang == Lang::Python {
            facts.fetched_runs = python_fetched_runs(collected, names);
        } else if lang == Lang::Powershell {
            facts.fetched_runs = powershell_fetched_runs(collected, names);
        }
        facts
    }
}

/// `code[value]` with the arguments of the network calls inside it blanked out (same length, so
/// offsets hold), or `None` when it contains no network call.
fn mask_request_arguments(
    code: &str,
    value: &Range<usize>,
    calls: &[Call],
    sinks: &[Option<Channel>],
) -> Option<String> {
    let inside: Vec<&Call> = calls
        .iter()
        .zip(sinks)
        .filter(|(c, sink)| value.start <= c.whole.start && c.whole.end <= value.end && sink.is_some())
        .map(|(c, _)| c)
        .collect();
    if inside.is_empty() {
        return None;
    }
    let mut bytes = code.get(value.clone())?.as_bytes().to_vec();
    for call in inside {
        for i in call.args.clone() {
            if let Some(b) = bytes.get_mut(i - value.start)
                && b.is_ascii()
            {
                *b = b' ';
            }
        }
    }
    // Only ASCII bytes were blanked, so the text is still UTF-8.
    String::from_utf8(bytes).ok()
}

fn agent_file_regex() -> &'static Regex {
    static FILES: OnceLock<Regex> = OnceLock::new();
    FILES.get_or_init(|| {
        builtin_regex(
            r"(?i)\b(?:SOUL|AGENTS|IDENTITY|BOOTSTRAP|CLAUDE|GEMINI|MEMORY|HEARTBEAT|TOOLS)\.md\b|\.cursor/rules|copilot-instructions\.md|\.claude/settings(?:\.local)?\.json|\.codex/config\.toml|\.gemini/settings\.json|\.openclaw/openclaw\.json",
        )
    })
}

/// Writes (`write_text`, `open(…, "a")`, `writeFileSync`…) whose path, spelled in the call or in a
/// variable it names, is one of the agent's own files.
fn agent_file_writes(lang: Lang, collected: &Collected, code: &str) -> Vec<AgentFileWrite> {
    if !matches!(lang, Lang::Python | Lang::Javascript | Lang::Typescript) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for call in &collected.calls {
        let last = last_segment(&call.callee);
        let writes = matches!(
            last,
            "write_text" | "write_bytes" | "writeFile" | "writeFileSync" | "appendFile" | "appendFileSync" | "open"
        );
        if !writes {
            continue;
        }
        let args = code.get(call.args.clone()).unwrap_or("");
        if last == "open"
            && !args.contains("'a")
            && !args.contains("\"a")
            && !args.contains("'w")
            && !args.contains("\"w")
        {
            continue;
        }
        // The call's own text, and the values of the names it mentions (one level).
        let mut texts = vec![call.callee.as_str(), args];
        for name in identifiers_of(&call.callee).chain(identifiers_of(args)) {
            texts.extend(
                collected.assignments.iter().filter(|(n, _)| n == name).filter_map(|(_, v)| code.get(v.clone())),
            );
        }
        if let Some(m) = texts.iter().find_map(|t| agent_file_regex().find(t)) {
            out.push(AgentFileWrite { call: call.whole.clone(), file: m.as_str().to_string() });
        }
    }
    out
}

/// How the secrets travel in a request, from the words before their first mention.
fn channel_of(args: &str, first_mention: Option<usize>) -> Channel {
    let Some(first) = first_mention else {
        return Channel::Body;
    };
    let before = args.get(..first).unwrap_or(args).to_ascii_lowercase();
    let markers: &[(&str, Channel)] = &[
        ("headers", Channel::Header),
        ("header", Channel::Header),
        ("-h ", Channel::Header),
        ("authorization", Channel::Header),
        ("bearer", Channel::Header),
        ("x-api-key", Channel::Header),
        ("auth=", Channel::Header),
        ("params", Channel::Query),
        ("?", Channel::Query),
        ("&", Channel::Query),
        ("json", Channel::Body),
        ("data", Channel::Body),
        ("body", Channel::Body),
        ("-d ", Channel::Body),
        ("-f ", Channel::Body),
        ("files", Channel::Body),
        ("form", Channel::Body),
        ("-t ", Channel::Body),
    ];
    markers
        .iter()
        .filter_map(|(m, c)| before.rfind(m).map(|at| (at, *c)))
        .max_by_key(|(at, _)| *at)
        .map_or(Channel::Body, |(_, c)| c)
}

/// The domain under which data is looked up: `${chunk}.x.example.invalid` → `x.example.invalid`.
fn dns_domain(args: &str) -> Option<String> {
    static DNS: OnceLock<Regex> = OnceLock::new();
    let re = DNS.get_or_init(|| {
        builtin_regex(r"(?:\}|\$\w+|\))\.((?:[a-z0-9-]+\.)+[a-z]{2,})\b|\{[^}]*\}\.((?:[a-z0-9-]+\.)+[a-z]{2,})\b")
    });
    re.captures(args).and_then(|c| c.get(1).or_else(|| c.get(2))).map(|m| m.as_str().to_ascii_lowercase())
}

/// Shell words of a command's arguments, unquoted (good enough for flags, URLs and paths).
/// Whether the mention at `at` (in `code`) is the identity file of an ssh connection in the
/// arguments `args`: the value of `-i` (`ssh -i KEY`, `scp -i KEY`, inside `rsync -e "…"`) or of
/// `IdentityFile`.
fn signs_the_connection(code: &str, args: Range<usize>, at: usize) -> bool {
    if !args.contains(&at) {
        return false;
    }
    let Some(before) = code.get(args.start..at) else { return false };
    // The mention may start after the home folder (`$HOME/.ssh/…`).
    let before = before.trim_end_matches('/');
    let before = ["~", "${HOME}", "$HOME", "$env:USERPROFILE", "$env:HOME"]
        .iter()
        .find_map(|home| before.strip_suffix(home))
        .unwrap_or(before);
    let before = before.trim_end_matches(['"', '\'', '$', '{']).trim_end();
    let before = before.strip_suffix('=').unwrap_or(before).trim_end();
    before.ends_with(" -i") || before.ends_with("\"-i") || before.to_ascii_lowercase().ends_with("identityfile")
}

fn shell_words(args: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    for c in args.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => current.push(c),
            (None, '"' | '\'') => quote = Some(c),
            (None, c) if c.is_whitespace() => {
                if !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                }
            }
            (None, '\\') => {}
            (None, c) => current.push(c),
        }
        if words.len() > 64 {
            break;
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

fn expand(word: &str, names: &Names<'_>) -> String {
    let mut out = word.to_string();
    let at = (word.as_ptr() as usize).saturating_sub(names.code.as_ptr() as usize);
    for name in names.mentioned(word) {
        if let Some(url) = names.url.get(name, at, &names.scopes) {
            out = out.replace(&format!("${{{name}}}"), url).replace(&format!("${name}"), url);
        }
    }
    out
}

fn normalise_path(path: &str) -> String {
    let p = path.trim().trim_start_matches("./");
    p.replace("$HOME", "~").replace("${HOME}", "~")
}

/// Where a download command writes: `(url, file)`.
fn download_target(call: &Call, code: &str, names: &Names<'_>, redirect: Option<&String>) -> Option<(String, String)> {
    let tool = call.callee.rsplit('/').next().unwrap_or(&call.callee).to_ascii_lowercase();
    if !matches!(tool.as_str(), "curl" | "wget" | "aria2c" | "fetch") {
        return None;
    }
    let args = code.get(call.args.clone()).unwrap_or("");
    let words: Vec<String> = shell_words(args).iter().map(|w| expand(w, names)).collect();
    let url = words.iter().find_map(|w| urls::find_urls(w).next().map(|(_, u)| u.to_string()))?;
    let basename = || {
        urls::host_and_path(&url)
            .map(|(_, path)| path.split(['?', '#']).next().unwrap_or("").rsplit('/').next().unwrap_or("").to_string())
            .filter(|b| !b.is_empty())
    };
    let mut file = None;
    let mut i = 0;
    while i < words.len() {
        let w = &words[i];
        let next = words.get(i + 1);
        match tool.as_str() {
            "curl" => {
                if w == "--output" || (w.starts_with('-') && !w.starts_with("--") && w.ends_with('o')) {
                    file = next.cloned();
                } else if let Some(v) = w.strip_prefix("--output=") {
                    file = Some(v.to_string());
                } else if w == "-O"
                    || w == "--remote-name"
                    || (w.starts_with('-') && !w.starts_with("--") && w.ends_with('O'))
                {
                    file = basename();
                }
            }
            _ => {
                if w == "-O"
                    || w == "--output-document"
                    || (w.starts_with('-') && !w.starts_with("--") && w.ends_with('O'))
                {
                    file = next.cloned();
                } else if let Some(v) = w.strip_prefix("--output-document=") {
                    file = Some(v.to_string());
                }
            }
        }
        i += 1;
    }
    if file.is_none() && tool == "wget" && !words.iter().any(|w| w == "-O-" || w == "-qO-") {
        file = basename();
    }
    let file = file.or_else(|| redirect.cloned())?;
    (file != "-" && !file.starts_with("/dev/")).then(|| (url, normalise_path(&file)))
}

fn fetched_runs(collected: &Collected, names: &Names<'_>) -> Vec<FetchedRun> {
    let code = names.code;
    let mut downloads: Vec<(Range<usize>, String, String)> = Vec::new();
    for (index, call) in collected.calls.iter().enumerate() {
        let redirect = collected.redirects.iter().find(|(i, _)| *i == index).map(|(_, f)| f);
        if let Some((url, file)) = download_target(call, code, names, redirect) {
            downloads.push((call.whole.clone(), url, file));
        }
    }
    let mut runs = Vec::new();
    if downloads.is_empty() {
        return runs;
    }
    // Variables holding a downloaded file's path.
    let mut path_vars: HashMap<&str, String> = HashMap::new();
    for (name, value) in &collected.assignments {
        let v = normalise_path(&unquote(code.get(value.clone()).unwrap_or("")));
        if downloads.iter().any(|(_, _, f)| *f == v) {
            path_vars.insert(name.as_str(), v);
        }
    }
    let resolve = |word: &str| -> String {
        let w = normalise_path(&unquote(word));
        for (name, path) in &path_vars {
            if w == format!("${name}") || w == format!("${{{name}}}") {
                return path.clone();
            }
        }
        w
    };
    const RUNNERS: &[&str] = &[
        "bash",
        "sh",
        "zsh",
        "dash",
        "ksh",
        "source",
        ".",
        "python",
        "python3",
        "node",
        "perl",
        "ruby",
        "exec",
        "nohup",
        "sudo",
        "env",
        "pwsh",
        "powershell",
    ];
    for call in &collected.calls {
        let callee = resolve(&call.callee);
        let args = code.get(call.args.clone()).unwrap_or("");
        let words = shell_words(args);
        let target = if RUNNERS.contains(&callee.as_str()) {
            words.iter().find(|w| !w.starts_with('-') && !RUNNERS.contains(&w.as_str())).map(|w| resolve(w))
        } else {
            Some(callee.clone())
        };
        let Some(target) = target else { continue };
        push_runs(call, &downloads, &mut runs, |download, file| {
            let same = target == *file
                || (file.contains('/') && target.ends_with(&format!("/{file}")))
                || (target.contains('/') && target.rsplit('/').next() == Some(file) && !file.contains('/'));
            same && call.whole.start > download.start && !target.is_empty()
        });
    }
    runs
}

/// Records `call` as running each download that `runs(download call, file)` says it runs.
fn push_runs(
    call: &Call,
    downloads: &[(Range<usize>, String, String)],
    out: &mut Vec<FetchedRun>,
    runs: impl Fn(&Range<usize>, &str) -> bool,
) {
    for (download, url, file) in downloads {
        if runs(download, file) {
            out.push(FetchedRun {
                download: download.clone(),
                run: call.whole.clone(),
                url: url.clone(),
                file: file.clone(),
            });
        }
    }
}

/// PowerShell: `Invoke-WebRequest -Uri $src -OutFile $tool` (also `iwr`, `Invoke-RestMethod`,
/// `Start-BitsTransfer -Source … -Destination …`, `curl.exe -o`), then the file run by
/// `Start-Process [-FilePath] $tool`, `Invoke-Item $tool`, `& $tool` or `. $tool`. Paths and
/// variables compare without case, as PowerShell compares them.
fn powershell_fetched_runs(collected: &Collected, names: &Names<'_>) -> Vec<FetchedRun> {
    let code = names.code;
    let words_of = |call: &Call| -> Vec<String> { shell_words(code.get(call.args.clone()).unwrap_or("")) };
    let value_of = |words: &[String], flags: &[&str]| -> Option<String> {
        words.windows(2).find(|w| flags.contains(&w[0].to_ascii_lowercase().as_str())).map(|w| w[1].clone())
    };
    let program = |call: &Call| -> String {
        let callee = call.callee.to_ascii_lowercase();
        callee.rsplit(['/', '\\']).next().unwrap_or(&callee).to_string()
    };
    let mut downloads: Vec<(Range<usize>, String, String)> = Vec::new();
    for call in &collected.calls {
        let (url_flags, file_flags): (&[&str], &[&str]) = match program(call).as_str() {
            "invoke-webrequest" | "iwr" | "invoke-restmethod" | "irm" | "wget" | "curl" => (&["-uri"], &["-outfile"]),
            "start-bitstransfer" => (&["-source"], &["-destination"]),
            "curl.exe" => (&[], &["-o", "--output"]),
            _ => continue,
        };
        let words = words_of(call);
        let Some(file) = value_of(&words, file_flags) else { continue };
        let url_word = value_of(&words, url_flags).or_else(|| words.iter().find(|w| !w.starts_with('-')).cloned());
        let expanded = url_word.map(|w| expand(&w, names)).unwrap_or_default();
        let Some(url) = urls::find_urls(&expanded).next().map(|(_, u)| u.to_string()) else { continue };
        downloads.push((call.whole.clone(), url, unquote(&file).to_ascii_lowercase()));
    }
    let mut runs = Vec::new();
    for call in &collected.calls {
        let words = words_of(call);
        let target = match program(call).as_str() {
            "start-process" | "saps" | "start" | "invoke-item" | "ii" => {
                value_of(&words, &["-filepath"]).or_else(|| words.iter().find(|w| !w.starts_with('-')).cloned())
            }
            // `& $tool …` and `. $tool`: the callee is the expression after the operator.
            _ => Some(call.callee.clone()),
        };
        let Some(target) = target.map(|t| unquote(&t).to_ascii_lowercase()) else { continue };
        push_runs(call, &downloads, &mut runs, |download, file| target == file && call.whole.start > download.end);
    }
    runs
}

/// JavaScript request objects: `const req = https.request(options)` (or `http.request`,
/// `net.connect`, `new WebSocket(url)` … any network call whose value is kept), by the name
/// that holds it, with the destination the creating call resolves to.
fn request_handles(
    lang: Lang,
    collected: &Collected,
    sinks: &[Option<Channel>],
    names: &Names<'_>,
) -> HashMap<String, (String, String, bool)> {
    let mut handles = HashMap::new();
    if !matches!(lang, Lang::Javascript | Lang::Typescript) {
        return handles;
    }
    // Network calls by start, so that each assignment finds the first one inside its value
    // with a binary search (a bundle has thousands of both).
    let mut network: Vec<&Call> =
        collected.calls.iter().zip(sinks).filter(|(_, s)| s.is_some()).map(|(c, _)| c).collect();
    if network.is_empty() {
        return handles;
    }
    network.sort_by_key(|c| c.whole.start);
    for (name, value) in &collected.assignments {
        let first = network.partition_point(|c| c.whole.start < value.start);
        let created = network.get(first).filter(|c| c.whole.end <= value.end);
        if let Some(call) = created {
            let args = names.code.get(call.args.clone()).unwrap_or("");
            if let Some(resolved) = names.url_of(args, call.args.start) {
                handles.insert(name.clone(), resolved);
            }
        }
    }
    handles
}

/// The destination of a write, end or send on a request object (`req.write(body)`).
fn handle_written<'h>(
    callee: &str,
    handles: &'h HashMap<String, (String, String, bool)>,
) -> Option<&'h (String, String, bool)> {
    let (receiver, method) = callee.rsplit_once('.')?;
    if !matches!(method, "write" | "end" | "send") {
        return None;
    }
    handles.get(receiver.trim_start_matches("this."))
}

/// `urlretrieve(URL, path)` or `open(path, "wb").write(requests.get(URL).content)`, then the
/// path run by `subprocess`/`os.system`/`os.exec*`.
fn python_fetched_runs(collected: &Collected, names: &Names<'_>) -> Vec<FetchedRun> {
    let code = names.code;
    let mut downloads: Vec<(Range<usize>, String, String)> = Vec::new();
    for call in &collected.calls {
        let last = last_segment(&call.callee);
        if last != "urlretrieve" {
            continue;
        }
        let args = code.get(call.args.clone()).unwrap_or("");
        let Some((url, _, _)) = names.url_of(args, call.args.start) else { continue };
        let second = args.trim_start_matches('(').split_once(',').map_or("", |x| x.1).trim().trim_end_matches(')');
        let file = string_value(second, collected, code).unwrap_or_else(|| second.to_string());
        downloads.push((call.whole.clone(), url, file));
    }
    let mut runs = Vec::new();
    for call in &collected.calls {
        let c = call.callee.to_ascii_lowercase();
        let runs_program =
            c.starts_with("subprocess.") || c.starts_with("os.exec") || c == "os.system" || c == "os.startfile";
        if !runs_program {
            continue;
        }
        let args = code.get(call.args.clone()).unwrap_or("");
        for (download, url, file) in &downloads {
            let file_word = file.trim_matches(['"', '\'']);
            let mentions = args.contains(file_word)
                || collected.assignments.iter().any(|(n, v)| {
                    code.get(v.clone()).unwrap_or("").contains(file_word) && identifiers_of(args).any(|w| w == n)
                });
            if mentions && call.whole.start > download.start {
                runs.push(FetchedRun {
                    download: download.clone(),
                    run: call.whole.clone(),
                    url: url.clone(),
                    file: file_word.to_string(),
                });
            }
        }
    }
    runs
}

/// The string a name or literal stands for, when it is a plain literal.
fn string_value(expr: &str, collected: &Collected, code: &str) -> Option<String> {
    let e = expr.trim();
    if (e.starts_with('"') || e.starts_with('\'')) && e.len() >= 2 {
        return Some(e[1..e.len() - 1].to_string());
    }
    collected
        .assignments
        .iter()
        .find(|(n, _)| n == e)
        .and_then(|(_, v)| code.get(v.clone()))
        .map(|v| v.trim().trim_matches(['"', '\'']).to_string())
}

#[cfg(test)]
mod tests;
