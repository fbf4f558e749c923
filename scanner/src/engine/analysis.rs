//! One file, parsed once: its text, language, Markdown structure, syntax trees, and the
//! segments (views) rules run on.

use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tree_sitter::Tree;

use crate::engine::decode::{self, DecodeLimits};
use crate::engine::lang::markdown::{self, MarkdownDoc, YamlBudget};
use crate::engine::lang::{Lang, syntax};
use crate::engine::normalize;
use crate::engine::package::LoadedFile;
use crate::engine::package::sniff::{Magic, sniff};
use crate::engine::text::{Encoding, LineIndex, decode_text, text_behind_signature};
use crate::engine::view::View;

/// Budgets for the parsers.
#[derive(Debug, Clone)]
pub struct ParseLimits {
    /// Larger code is matched as text only (no syntax tree).
    pub max_tree_bytes: usize,
    pub tree_time: Duration,
    pub yaml: YamlBudget,
    pub decode: DecodeLimits,
    /// Wall-clock budget for matching one skill's files and running its analyzers. Every stage
    /// is meant to be linear; this is the defence in depth for the input that proves one is not:
    /// what is left when it passes is reported as `analysis-incomplete` (high), so a gate fails
    /// closed instead of stalling.
    pub analysis_time: Duration,
}

impl Default for ParseLimits {
    fn default() -> Self {
        ParseLimits {
            max_tree_bytes: 2 * 1024 * 1024,
            tree_time: Duration::from_secs(2),
            yaml: YamlBudget::default(),
            decode: DecodeLimits::default(),
            // Ten times what the worst generated inputs of `bench/complexity.sh` take in a
            // release build, so that a loaded machine or a debug build does not trip it on a
            // large honest skill.
            analysis_time: Duration::from_secs(20),
        }
    }
}

/// When analysis of one skill must stop. Files analysed in parallel share it.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    at: Option<Instant>,
    budget: Duration,
}

/// The deadline passed before a stage finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadlinePassed;

impl Deadline {
    pub fn after(budget: Duration) -> Deadline {
        Deadline { at: Instant::now().checked_add(budget), budget }
    }

    /// `Err` once the deadline has passed (never, for a budget too large to represent).
    pub fn check(&self) -> Result<(), DeadlinePassed> {
        match self.at {
            Some(at) if Instant::now() >= at => Err(DeadlinePassed),
            _ => Ok(()),
        }
    }

    pub fn budget(&self) -> Duration {
        self.budget
    }
}

/// Where a segment's text comes from, and so how its offsets map back to the file.
#[derive(Debug, Clone)]
pub enum SegmentBody {
    /// A slice of the file text.
    Range(Range<usize>),
    /// Text rewritten by normalisation; `map[i]` is the file offset of byte `i` (len + 1 entries).
    Mapped { text: String, map: Vec<u32>, step: String },
    /// Text recovered by decoding the file text at `span`.
    Decoded { text: String, span: Range<usize>, chain: Vec<String> },
}

#[derive(Debug, Clone)]
pub struct Segment {
    pub view: View,
    pub lang: Lang,
    pub body: SegmentBody,
}

impl Segment {
    pub fn text<'a>(&'a self, file_text: &'a str) -> &'a str {
        match &self.body {
            SegmentBody::Range(range) => file_text.get(range.clone()).unwrap_or(""),
            SegmentBody::Mapped { text, .. } | SegmentBody::Decoded { text, .. } => text,
        }
    }

    /// The file byte range that a range of this segment's text stands for.
    pub fn file_range(&self, range: Range<usize>) -> Range<usize> {
        match &self.body {
            SegmentBody::Range(base) => base.start + range.start..base.start + range.end,
            SegmentBody::Mapped { map, .. } => {
                let at = |i: usize| map.get(i.min(map.len().saturating_sub(1))).copied().unwrap_or(0) as usize;
                let start = at(range.start);
                let end = if range.end > range.start { at(range.end - 1) + 1 } else { start };
                start..end.max(start)
            }
            SegmentBody::Decoded { span, .. } => span.clone(),
        }
    }
}

/// A syntax tree of a segment (a script file, or a code block).
pub struct SegmentTree {
    pub segment: usize,
    pub lang: Lang,
    pub tree: Tree,
}

/// A parse that could not be done, reported as a coverage finding.
#[derive(Debug, Clone)]
pub struct CoverageNote {
    pub rule_id: &'static str,
    pub range: Option<Range<usize>>,
    pub detail: String,
}

pub struct FileAnalysis {
    pub path: String,
    pub bytes: Arc<[u8]>,
    pub truncated: bool,
    pub magic: Option<Magic>,
    pub lang: Lang,
    /// `None` for binary files.
    pub text: Option<String>,
    pub encoding: Option<Encoding>,
    pub lines: LineIndex,
    pub markdown: Option<MarkdownDoc>,
    pub segments: Vec<Segment>,
    /// Code segments that can be parsed (script files, tagged or shell-looking code blocks);
    /// they are parsed on demand, when a rule or analyzer needs their syntax tree.
    pub tree_candidates: Vec<usize>,
    pub trees: Vec<SegmentTree>,
    pub notes: Vec<CoverageNote>,
}

impl FileAnalysis {
    pub fn text(&self) -> &str {
        self.text.as_deref().unwrap_or("")
    }

    pub fn is_manifest(&self) -> bool {
        self.path.parse::<skillscan_signatures::SkillPath>().is_ok_and(|path| path.is_root_manifest())
    }

    pub fn segment_text(&self, index: usize) -> &str {
        self.segments.get(index).map_or("", |s| s.text(self.text()))
    }
}

/// Whether an untagged code block is shell worth parsing: its first line is a prompt or starts
/// with a common command. Untagged blocks also hold output, tables and ASCII art, and parsing
/// those as bash is slow error recovery for nothing (they are still matched as text).
fn looks_like_shell(code: &str) -> bool {
    const COMMANDS: &[&str] = &[
        "$",
        "#!",
        "curl",
        "wget",
        "npm",
        "npx",
        "pnpm",
        "yarn",
        "bun",
        "pip",
        "pip3",
        "pipx",
        "uv",
        "uvx",
        "python",
        "python3",
        "node",
        "deno",
        "cd",
        "git",
        "brew",
        "export",
        "sudo",
        "echo",
        "printf",
        "chmod",
        "bash",
        "sh",
        "zsh",
        "apt",
        "apt-get",
        "docker",
        "cargo",
        "go",
        "make",
        "openclaw",
        "clawhub",
        "mkdir",
        "cp",
        "mv",
        "rm",
        "ls",
        "cat",
        "source",
        "eval",
        "exec",
        "crontab",
        "launchctl",
        "systemctl",
        "tar",
        "unzip",
        "base64",
        "ssh",
        "scp",
        "nc",
        "openssl",
        "gh",
        "kubectl",
        "aws",
        "gcloud",
        "az",
        "set",
        "for",
        "if",
        "while",
        "function",
    ];
    code.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("# "))
        .and_then(|l| l.split_whitespace().next())
        .is_some_and(|word| COMMANDS.contains(&word) || word.contains('='))
}

/// Inline code that reads like a command (for the code view): has a space and no sentence shape.
fn is_command_like(code: &str) -> bool {
    code.len() >= 6 && code.contains(' ') && !code.ends_with('.')
}

pub fn analyze(file: &LoadedFile, limits: &ParseLimits) -> FileAnalysis {
    let magic = sniff(&file.bytes);
    let decoded = match magic {
        None | Some(Magic::Script) => decode_text(&file.bytes),
        Some(_) => text_behind_signature(&file.bytes),
    };
    let (text, encoding) = match decoded {
        Some((text, encoding)) => (Some(text.into_owned()), Some(encoding)),
        None => (None, None),
    };
    let lang = text.as_deref().map_or(Lang::Text, |t| Lang::of_file(&file.path, t));
    let lines = LineIndex::new(text.as_deref().unwrap_or(""));
    let mut analysis = FileAnalysis {
        path: file.path.clone(),
        bytes: file.bytes.clone(),
        truncated: file.truncated,
        magic,
        lang,
        text,
        encoding,
        lines,
        markdown: None,
        segments: Vec::new(),
        tree_candidates: Vec::new(),
        trees: Vec::new(),
        notes: Vec::new(),
    };
    let Some(text) = analysis.text.take() else {
        add_binary_strings(&mut analysis);
        return analysis;
    };
    let whole = 0..text.len();
    analysis.segments.push(Segment { view: View::Raw, lang, body: SegmentBody::Range(whole.clone()) });
    match lang {
        Lang::Markdown => {
            let doc = markdown::parse(&text, &limits.yaml);
            if let Some(range) = &doc.frontmatter {
                analysis.segments.push(Segment {
                    view: View::Frontmatter,
                    lang: Lang::Yaml,
                    body: SegmentBody::Range(range.clone()),
                });
            }
            for range in &doc.prose {
                analysis.segments.push(Segment {
                    view: View::Prose,
                    lang: Lang::Markdown,
                    body: SegmentBody::Range(range.clone()),
                });
            }
            for range in &doc.comments {
                analysis.segments.push(Segment {
                    view: View::Comments,
                    lang: Lang::Markdown,
                    body: SegmentBody::Range(range.clone()),
                });
            }
            for range in &doc.inline_code {
                if is_command_like(&text[range.clone()]) {
                    analysis.segments.push(Segment {
                        view: View::Code,
                        lang: Lang::Shell,
                        body: SegmentBody::Range(range.clone()),
                    });
                }
            }
            for block in &doc.code_blocks {
                let index = analysis.segments.len();
                analysis.segments.push(Segment {
                    view: View::Code,
                    lang: block.lang,
                    body: SegmentBody::Range(block.content.clone()),
                });
                let tagged = !block.info.trim().is_empty();
                if syntax::grammar(block.lang).is_some() && (tagged || looks_like_shell(&text[block.content.clone()])) {
                    analysis.tree_candidates.push(index);
                }
            }
            analysis.markdown = Some(doc);
        }
        lang if lang.is_script() => {
            let index = analysis.segments.len();
            analysis.segments.push(Segment { view: View::Code, lang, body: SegmentBody::Range(whole.clone()) });
            if syntax::grammar(lang).is_some() {
                analysis.tree_candidates.push(index);
            }
        }
        Lang::Html => {
            let mut pos = 0;
            while let Some(i) = memchr::memmem::find(&text.as_bytes()[pos..], b"<!--") {
                let start = pos + i;
                let end = memchr::memmem::find(&text.as_bytes()[start..], b"-->").map_or(text.len(), |j| start + j + 3);
                analysis.segments.push(Segment {
                    view: View::Comments,
                    lang: Lang::Html,
                    body: SegmentBody::Range(start..end),
                });
                pos = end;
            }
        }
        Lang::Text => {
            analysis.segments.push(Segment { view: View::Prose, lang: Lang::Text, body: SegmentBody::Range(whole) });
        }
        _ => {}
    }
    add_rewrites(&mut analysis, &text, limits);
    analysis.text = Some(text);
    analysis
}

impl FileAnalysis {
    /// Parses the candidate segments `wanted` selects, adding their comment and string-literal
    /// segments and their trees. Each segment is parsed at most once.
    /// `wanted` is given the segment and the file's text.
    pub fn parse_trees(&mut self, limits: &ParseLimits, wanted: impl Fn(&Segment, &str) -> bool) {
        let Some(text) = self.text.take() else { return };
        for index in std::mem::take(&mut self.tree_candidates) {
            let segment = &self.segments[index];
            let (lang, body, want) = (segment.lang, segment.body.clone(), wanted(segment, &text));
            if let (true, SegmentBody::Range(range)) = (want, body) {
                self.add_tree(&text, index, lang, range, limits);
            }
        }
        self.text = Some(text);
    }

    fn add_tree(&mut self, text: &str, segment: usize, lang: Lang, range: Range<usize>, limits: &ParseLimits) {
        let code = &text[range.clone()];
        match syntax::parse(lang, code, limits.max_tree_bytes, limits.tree_time) {
            Ok(Some(tree)) => {
                let (comments, strings) = syntax::comments_and_strings(lang, &tree, code);
                for (view, ranges) in [(View::Comments, comments), (View::Strings, strings)] {
                    for r in ranges {
                        self.segments.push(Segment {
                            view,
                            lang,
                            body: SegmentBody::Range(range.start + r.start..range.start + r.end),
                        });
                    }
                }
                self.trees.push(SegmentTree { segment, lang, tree });
            }
            Ok(None) => {}
            Err(skip) => self.notes.push(CoverageNote {
                rule_id: "syntax-tree-skipped",
                range: Some(range),
                detail: match skip {
                    syntax::ParseSkip::TooLarge { bytes, limit } => format!(
                        "{} code of {bytes} bytes is over the {limit} byte syntax-tree budget; it was matched as text only",
                        lang.as_str()
                    ),
                    syntax::ParseSkip::TimedOut { after } => format!(
                        "{} parser gave up after {:?}; the code was matched as text only",
                        lang.as_str(),
                        after
                    ),
                },
            }),
        }
    }
}

/// A decoded payload's language, for the rules that care (most rules on decoded text do not).
fn guess_lang(text: &str) -> Lang {
    if text.contains("import ") || text.contains("def ") || text.contains("exec(") || text.contains("urlopen") {
        Lang::Python
    } else if text.contains("require(") || text.contains("=>") || text.contains("function") || text.contains("const ") {
        Lang::Javascript
    } else if text.contains("Invoke-") || text.contains("iex ") || text.contains("New-Object") {
        Lang::Powershell
    } else {
        Lang::Shell
    }
}

/// Adds the decoded and normalised versions of the file's text as segments of their own, so
/// every rule also sees what the obfuscation hides (see [`crate::engine::decode`], [`crate::engine::normalize`]).
fn add_rewrites(analysis: &mut FileAnalysis, text: &str, limits: &ParseLimits) {
    if analysis.path.rsplit('/').next() == Some("package.json") {
        add_lifecycle_scripts(analysis, text);
    }
    for payload in decode::decode_all(text, &limits.decode) {
        let lang = guess_lang(&payload.text);
        analysis.segments.push(Segment {
            view: View::Decoded,
            lang,
            body: SegmentBody::Decoded { text: payload.text, span: payload.span, chain: payload.chain },
        });
    }
    add_emulated(analysis, text, limits);
    for (span, hidden) in normalize::tag_runs(text) {
        analysis.segments.push(Segment {
            view: View::Decoded,
            lang: Lang::Text,
            body: SegmentBody::Decoded { text: hidden, span, chain: vec!["unicode-tags".to_string()] },
        });
    }
    let originals = analysis.segments.len();
    for index in 0..originals {
        let segment = &analysis.segments[index];
        let SegmentBody::Range(range) = &segment.body else { continue };
        let (view, lang, range) = (segment.view, segment.lang, range.clone());
        let Some(slice) = text.get(range.clone()) else { continue };
        let rewrites = [
            ("unicode-normalized", normalize::unicode(slice)),
            (
                "shell-normalized",
                if view == View::Code && lang == Lang::Shell { normalize::shell(slice) } else { None },
            ),
            (
                "prose-normalized",
                if matches!(view, View::Prose | View::Comments)
                    && matches!(lang, Lang::Markdown | Lang::Text | Lang::Html)
                {
                    normalize::prose(slice)
                } else {
                    None
                },
            ),
            (
                "windows-paths",
                if matches!(view, View::Code | View::Prose | View::Comments) {
                    normalize::windows_paths(slice)
                } else {
                    None
                },
            ),
            (
                "string-concat",
                if view == View::Code && matches!(lang, Lang::Python | Lang::Javascript | Lang::Typescript) {
                    normalize::string_concat(slice)
                } else {
                    None
                },
            ),
        ];
        for (step, rewrite) in rewrites {
            let Some(rewrite) = rewrite else { continue };
            let base = u32::try_from(range.start).unwrap_or(u32::MAX);
            let map = rewrite.map.iter().map(|offset| offset.saturating_add(base)).collect();
            analysis.segments.push(Segment {
                view,
                lang,
                body: SegmentBody::Mapped { text: rewrite.text, map, step: step.to_string() },
            });
        }
    }
}

/// Adds what the small decoders of each code segment (a script, a fenced block) produce when
/// emulated (see [`crate::engine::decode::emulate`]), and what that output itself decodes to.
fn add_emulated(analysis: &mut FileAnalysis, text: &str, limits: &ParseLimits) {
    let code: Vec<(Lang, Range<usize>)> = analysis
        .segments
        .iter()
        .filter(|s| s.view == View::Code)
        .filter_map(|s| match &s.body {
            SegmentBody::Range(range) => Some((s.lang, range.clone())),
            _ => None,
        })
        .collect();
    for (lang, range) in code {
        let Some(slice) = text.get(range.clone()) else { continue };
        for payload in decode::emulate::emulate(slice, lang, &limits.decode) {
            let span = range.start + payload.span.start..range.start + payload.span.end;
            let inner = decode::decode_all(&payload.text, &limits.decode);
            analysis.segments.push(Segment {
                view: View::Decoded,
                lang: guess_lang(&payload.text),
                body: SegmentBody::Decoded { text: payload.text, span: span.clone(), chain: payload.chain.clone() },
            });
            for nested in inner {
                let mut chain = payload.chain.clone();
                chain.extend(nested.chain);
                analysis.segments.push(Segment {
                    view: View::Decoded,
                    lang: guess_lang(&nested.text),
                    body: SegmentBody::Decoded { text: nested.text, span: span.clone(), chain },
                });
            }
        }
    }
}

/// Executables, bytecode and unknown binaries get their printable strings as a decoded segment,
/// so a dropper hidden in an ELF or a `.pyc` still meets the rules. Images, archives and
/// documents do not: their strings are noise, and archives are opened as archives.
fn add_binary_strings(analysis: &mut FileAnalysis) {
    // The manifest and anything named like a script are read or run whatever their first bytes
    // say (a PNG signature in front of a dropper), so their strings always meet the rules.
    let read_as_instructions = analysis.is_manifest() || Lang::of_file(&analysis.path, "").is_script();
    let worth_it = read_as_instructions
        || match analysis.magic {
            // A `#!` script lands here only when a NUL byte made it binary; bash still runs it
            // past its first 80 bytes.
            Some(m) => {
                m.is_native_executable()
                    || matches!(m, Magic::Script | Magic::Pyc | Magic::JavaClass | Magic::Wasm | Magic::Ole)
            }
            None => true,
        };
    if !worth_it {
        return;
    }
    let strings = crate::engine::text::printable_strings(
        &analysis.bytes[..analysis.bytes.len().min(4 * 1024 * 1024)],
        256 * 1024,
    );
    if strings.len() < 6 {
        return;
    }
    analysis.segments.push(Segment {
        view: View::Decoded,
        lang: guess_lang(&strings),
        body: SegmentBody::Decoded { text: strings, span: 0..0, chain: vec!["strings".to_string()] },
    });
}

/// npm lifecycle scripts (`postinstall`…) run on `npm install` without anybody typing them; their
/// values are shell code, so they join the code view.
fn add_lifecycle_scripts(analysis: &mut FileAnalysis, text: &str) {
    use std::sync::OnceLock;
    static HOOK: OnceLock<regex::Regex> = OnceLock::new();
    let hook = HOOK.get_or_init(|| {
        regex::Regex::new(r#""(?:pre|post)?(?:install|uninstall|prepare|prepublish)"\s*:\s*"((?:[^"\\\n]|\\.)*)""#)
            .expect("valid lifecycle regex")
    });
    for caps in hook.captures_iter(text) {
        if let Some(value) = caps.get(1) {
            analysis.segments.push(Segment {
                view: View::Code,
                lang: Lang::Shell,
                body: SegmentBody::Range(value.range()),
            });
        }
    }
}
