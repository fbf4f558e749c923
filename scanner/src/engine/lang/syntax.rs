//! Tree-sitter parsing of shell, Python, JavaScript and TypeScript, with size and time budgets,
//! and the comment and string-literal ranges rules can look at.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::{ControlFlow, Range};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tree_sitter::{Language, Node, ParseOptions, Parser, Tree};

use super::Lang;

/// The grammar for a language, if it has one.
pub fn grammar(lang: Lang) -> Option<Language> {
    Some(match lang {
        Lang::Shell => tree_sitter_bash::LANGUAGE.into(),
        Lang::Python => tree_sitter_python::LANGUAGE.into(),
        Lang::Javascript => tree_sitter_javascript::LANGUAGE.into(),
        Lang::Typescript => tree_sitter_typescript::LANGUAGE_TSX.into(),
        // For the dataflow analysis only: no rule reads PowerShell comments or strings through a
        // tree (`literal_kinds` has none for it), so its views are what they were without one.
        Lang::Powershell => tree_sitter_powershell::LANGUAGE.into(),
        _ => return None,
    })
}

thread_local! {
    static PARSERS: RefCell<HashMap<Lang, Parser>> = RefCell::new(HashMap::new());
}

/// Why a syntax tree is not available.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseSkip {
    TooLarge { bytes: usize, limit: usize },
    TimedOut { after: Duration },
}

/// Parses `text`; refuses texts over `max_bytes` and gives up after `budget`, so a 50 MB
/// minified file or a pathological input cannot stall the scan.
pub fn parse(lang: Lang, text: &str, max_bytes: usize, budget: Duration) -> Result<Option<Tree>, ParseSkip> {
    let Some(language) = grammar(lang) else {
        return Ok(None);
    };
    if text.len() > max_bytes {
        return Err(ParseSkip::TooLarge { bytes: text.len(), limit: max_bytes });
    }
    PARSERS.with(|parsers| {
        let mut parsers = parsers.borrow_mut();
        let parser = parsers.entry(lang).or_insert_with(|| {
            let mut parser = Parser::new();
            // The grammars are compiled in; a version mismatch would be a build error in tests.
            let _ = parser.set_language(&language);
            parser
        });
        let started = Instant::now();
        let mut timed_out = false;
        let mut progress = |_: &tree_sitter::ParseState| {
            if started.elapsed() > budget {
                timed_out = true;
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        };
        let parsed_text = parser_safe_text(lang, text);
        let bytes = parsed_text.as_bytes();
        let tree = parser.parse_with_options(
            &mut |offset, _| bytes.get(offset..).unwrap_or(&[]),
            None,
            Some(ParseOptions::new().progress_callback(&mut progress)),
        );
        if timed_out {
            parser.reset();
            return Err(ParseSkip::TimedOut { after: budget });
        }
        Ok(tree)
    })
}

/// The text to hand to the grammar for `lang`: `text` itself, or for shell a copy in which every
/// character above U+00FF is the same number of `x` bytes.
///
/// tree-sitter-bash 0.25's external scanner calls C `isdigit` on the lookahead code point, which
/// is undefined above 255 and made glibc read out of bounds (SIGSEGV, the whole scan dies) for
/// `{` followed by a supplementary character. A non-Latin-1 character is a word character to
/// bash either way, so `x` parses alike; byte offsets stay valid, and everything that reads
/// node text reads the original.
fn parser_safe_text(lang: Lang, text: &str) -> std::borrow::Cow<'_, str> {
    // UTF-8 lead bytes from 0xC4 on start characters above U+00FF.
    if lang != Lang::Shell || !text.bytes().any(|b| b >= 0xC4) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut safe = String::with_capacity(text.len());
    for c in text.chars() {
        if u32::from(c) > 0xFF {
            safe.extend(std::iter::repeat_n('x', c.len_utf8()));
        } else {
            safe.push(c);
        }
    }
    std::borrow::Cow::Owned(safe)
}

/// Node kinds that are comments, per grammar.
fn is_comment(kind: &str) -> bool {
    kind == "comment"
}

/// Node kinds that are string literals (whole literal, quotes included), per grammar.
fn is_string(lang: Lang, kind: &str) -> bool {
    match lang {
        Lang::Shell => matches!(kind, "string" | "raw_string" | "ansi_c_string" | "heredoc_body"),
        Lang::Python => kind == "string",
        Lang::Javascript | Lang::Typescript => matches!(kind, "string" | "template_string"),
        _ => false,
    }
}

/// What a node kind is to [`comments_and_strings`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Literal {
    Neither,
    Comment,
    String,
}

/// `Literal` by kind id for `lang`'s grammar. The walk below visits every node of every tree;
/// a table lookup by id is cheaper than reading the kind's name and comparing strings, and the
/// table is built from the grammar's own names (`Node::kind` is the name of `Node::kind_id`),
/// so it picks the same nodes.
fn literal_kinds(lang: Lang) -> &'static [Literal] {
    static SHELL: OnceLock<Vec<Literal>> = OnceLock::new();
    static PYTHON: OnceLock<Vec<Literal>> = OnceLock::new();
    static JAVASCRIPT: OnceLock<Vec<Literal>> = OnceLock::new();
    static TYPESCRIPT: OnceLock<Vec<Literal>> = OnceLock::new();
    let cell = match lang {
        Lang::Shell => &SHELL,
        Lang::Python => &PYTHON,
        Lang::Javascript => &JAVASCRIPT,
        Lang::Typescript => &TYPESCRIPT,
        _ => return &[],
    };
    cell.get_or_init(|| {
        let Some(language) = grammar(lang) else { return Vec::new() };
        (0..language.node_kind_count())
            .map(|id| {
                let kind = u16::try_from(id).ok().and_then(|id| language.node_kind_for_id(id)).unwrap_or("");
                if is_comment(kind) {
                    Literal::Comment
                } else if is_string(lang, kind) {
                    Literal::String
                } else {
                    Literal::Neither
                }
            })
            .collect()
    })
}

/// Byte ranges of the comments and string literals of a tree (string quotes stripped).
pub fn comments_and_strings(lang: Lang, tree: &Tree, text: &str) -> (Vec<Range<usize>>, Vec<Range<usize>>) {
    let kinds = literal_kinds(lang);
    let mut comments = Vec::new();
    let mut strings = Vec::new();
    let mut cursor = tree.walk();
    let mut descend = true;
    loop {
        let node = cursor.node();
        if descend {
            match kinds.get(usize::from(node.kind_id())).copied().unwrap_or(Literal::Neither) {
                Literal::Comment => comments.push(node.byte_range()),
                Literal::String => {
                    strings.push(strip_quotes(text, node));
                    // Nested strings (interpolations) are inside this range already.
                    descend = false;
                }
                Literal::Neither => {}
            }
        }
        if descend && cursor.goto_first_child() {
            continue;
        }
        descend = true;
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return (comments, strings);
            }
        }
    }
}

fn strip_quotes(text: &str, node: Node<'_>) -> Range<usize> {
    let range = node.byte_range();
    let Some(literal) = text.get(range.clone()) else {
        return range;
    };
    // Python prefixes (r, b, f, u) and quote runs (''' """ ' " `) are not content.
    let prefix = literal.bytes().take_while(|b| b.is_ascii_alphabetic() && literal.len() > 1).count().min(2);
    let body = &literal[prefix..];
    let quote = body.bytes().take_while(|&b| matches!(b, b'"' | b'\'' | b'`')).count().min(3);
    if quote == 0 {
        return range;
    }
    let start = range.start + prefix + quote;
    let end = range.end.saturating_sub(quote).max(start);
    start..end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(lang: Lang, text: &str) -> Tree {
        parse(lang, text, 1 << 20, Duration::from_secs(5)).unwrap().unwrap()
    }

    #[test]
    fn shell_with_supplementary_characters_parses_with_original_offsets() {
        // Without the ASCII stand-ins this input crashed tree-sitter-bash (SIGSEGV).
        let text = "cat ~/.ssh/id_rsa {\u{E0001}\necho \"h\u{E9}llo \u{1F600}\" # n\u{2019}t\n";
        let tree = parsed(Lang::Shell, text);
        let (comments, strings) = comments_and_strings(Lang::Shell, &tree, text);
        assert_eq!(comments.iter().map(|r| &text[r.clone()]).collect::<Vec<_>>(), ["# n\u{2019}t"]);
        assert_eq!(strings.iter().map(|r| &text[r.clone()]).collect::<Vec<_>>(), ["h\u{E9}llo \u{1F600}"]);
        assert!(matches!(parser_safe_text(Lang::Python, text), std::borrow::Cow::Borrowed(_)));
        assert!(matches!(parser_safe_text(Lang::Shell, "caf\u{E9}"), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn every_grammar_loads_and_parses() {
        for (lang, text) in [
            (Lang::Shell, "curl -s x | sh # c\n"),
            (Lang::Python, "import os\nos.system('id')  # c\n"),
            (Lang::Javascript, "require('child_process').exec(`id`) // c\n"),
            (Lang::Typescript, "const x: string = 'a'; // c\n"),
        ] {
            let tree = parsed(lang, text);
            assert!(!tree.root_node().has_error(), "{lang:?}");
            let (comments, strings) = comments_and_strings(lang, &tree, text);
            assert_eq!(comments.len(), 1, "{lang:?}");
            assert!(text[comments[0].clone()].contains('c'));
            if lang != Lang::Shell {
                assert!(!strings.is_empty(), "{lang:?}");
            }
        }
    }

    #[test]
    fn strings_lose_their_quotes() {
        let text = "x = r'abc' + \"\"\"def\"\"\"\n";
        let tree = parsed(Lang::Python, text);
        let (_, strings) = comments_and_strings(Lang::Python, &tree, text);
        let values: Vec<_> = strings.iter().map(|r| &text[r.clone()]).collect();
        assert_eq!(values, ["abc", "def"]);
    }

    #[test]
    fn oversized_input_is_refused() {
        assert!(matches!(parse(Lang::Shell, "echo hi", 3, Duration::from_secs(1)), Err(ParseSkip::TooLarge { .. })));
        assert!(matches!(parse(Lang::Json, "{}", 100, Duration::from_secs(1)), Ok(None)));
    }
}
