//! Intent in prose aimed at the agent (or the user): sentences read as (action, object,
//! destination), composed across the sentences and numbered steps of one paragraph or list, with
//! the framing (mandatory, concealing, role-play, fake authority, override, hidden) and the
//! polarity (imperative, negated, quoted, descriptive) of each.
//!
//! The pipeline, linear in the input:
//!
//! 1. [`blocks`]: Markdown blocks as byte ranges (hard-wrapped lines of a paragraph or list item
//!    joined; bullets, numbers, `#`, `>` left out). A lead-in paragraph ending with `:` and the
//!    list under it form one unit, as do "Step N" lines; fenced code that reads as prose is a
//!    unit, other fenced code is attached to the unit before it (content of a file write).
//! 2. [`norm`]: each unit normalised into one line with a byte map back to the text (emphasis,
//!    emoji, invisible characters, tags, comments; Unicode tag characters decoded).
//! 3. [`tokens`]: words, URLs, hosts, emails, paths and environment variables; sentences.
//! 4. [`lexicon`]: word classes through a light lemmatiser, then multi-word phrases.
//! 5. Here: secrets, destinations and targets per sentence, the direction of each destination
//!    (`to`/`into`/`via` vs `from`), polarity per verb (negation scoped to its clause, a lead-in
//!    or heading, quoted or reported speech, descriptions of checks, third-person statements),
//!    and composition within a window of sentences of the same unit.
//!
//! Nothing here decides severity: a caller weighs kind, polarity, framing, the secret's owner
//! and the destination (a key sent to its own vendor's API is reported faithfully).

mod blocks;
mod carry;
mod lexicon;
mod norm;
mod tokens;

#[cfg(test)]
mod tests;

use std::ops::Range;

use lexicon::*;
use tokens::{Kind, Tokens};

use crate::engine::urls;

/// What an instruction tells the agent (or the user) to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum InstructionKind {
    /// Read or collect a secret, then send, post, upload, forward, include in a request to, or
    /// report it to a destination (URL, email, host, "webhook", "our server"); also the single
    /// step "send your API keys to https://…". The destination may be the secret's own vendor.
    SendSecret,
    /// Print, echo, show, reveal or paste a secret into the reply, the chat or a log (no
    /// external destination).
    DiscloseSecret,
    /// Write, append, add or save content into an agent instruction or memory file, an agent
    /// configuration, or a shell startup file (see `target_file` and `content`).
    WriteAgentFile,
    /// Fetch or load instructions (or a file or page) from a URL and follow, obey, execute or
    /// apply them, once or periodically (`Framing::RECURRING`).
    FetchAndFollow,
    /// Decode a blob (base64, hex, rot13 …) and run, follow or obey the result.
    DecodeAndFollow,
    /// Open or visit a URL (a paste page) and run or paste the command it shows in a terminal.
    RunFromPage,
    /// Download an executable, installer or archive and run, open or install it (an archive
    /// password is reported as `ContentClass::ArchivePassword`).
    DownloadAndRun,
    /// Lower the agent's guard for the session without writing a file: approve everything,
    /// skip confirmations, turn off the sandbox, trust a source (see `content`).
    LowerGuard,
    /// An action (run, send, install, delete …) to be done without the user knowing ("silently",
    /// "do not tell the user"), when no other kind covers the sentence.
    ConcealedAction,
    /// "Ignore previous instructions" and its kin, as an order.
    Override,
}

/// What kind of secret is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SecretClass {
    ApiKey,
    Token,
    Password,
    Credentials,
    /// "secret(s)", "client secret".
    Secret,
    PrivateKey,
    SshKey,
    /// `~/.aws`, access keys, gcloud, kube config.
    CloudCredentials,
    SeedPhrase,
    Wallet,
    Cookies,
    Session,
    /// Environment variables as a whole ("all env vars", `printenv`, KEY=VALUE pairs).
    EnvVars,
    /// `.env` files.
    DotEnv,
    Keychain,
    AuthProfile,
    /// An agent's own configuration or key store (`~/.openclaw/…`, `~/.claude/…`).
    AgentConfig,
    /// A secret-named variable (`OPENAI_API_KEY`, `$GITHUB_TOKEN`); its name is in `name`.
    NamedVariable,
    /// The conversation, chat history, system prompt or the agent's instructions.
    Conversation,
    /// Host name, user name, machine identifiers.
    SystemInfo,
    /// The user's own documents, desktop, downloads or photos (`~/Documents`): private, but
    /// what a backup or sync skill honestly sends to the user's storage.
    PersonalFiles,
}

/// A secret named in a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretMention {
    pub class: SecretClass,
    /// The variable name or path as written (`OPENAI_API_KEY`, `~/.ssh/id_rsa`), for mapping to
    /// the service that owns it.
    pub name: Option<String>,
    /// The words as normalised ("api key", "seed phrase").
    pub words: String,
    pub range: Range<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DestinationKind {
    Url,
    /// A bare host, with or without a path (`collector.example.com/in`).
    Host,
    Ip,
    Email,
    /// A word: "webhook", "endpoint", "server", "telemetry", "us", or for disclosures "chat",
    /// "reply", "here".
    Word,
}

/// Where something goes (or, for fetches, where it comes from).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    pub kind: DestinationKind,
    /// As written (URL, host, email) or the word.
    pub text: String,
    /// Lower-case host (for URLs, hosts, IPs and emails).
    pub host: Option<String>,
    pub range: Range<usize>,
}

/// What content written into an agent file (or said to the agent) does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ContentClass {
    /// Turns off the sandbox or safety checks, skips permissions (`--dangerously-skip-permissions`).
    DisablesSandbox,
    /// Auto-approves, "do not ask for confirmation", allows all tools.
    PreApproves,
    /// Trusts a domain, user, skill or source, or follows instructions from it.
    TrustsSource,
    /// "always", "from now on", "in every session".
    Persistent,
    /// Carries a secret and a send or a destination.
    CarriesExfiltration,
    /// Fetches something from a URL.
    FetchesRemote,
    /// Runs a command (curl, bash, source, python …).
    RunsCommand,
    /// Tells the agent to hide something from the user.
    Conceals,
    /// Names a secret without sending it (`export OPENAI_API_KEY=…` in a shell profile): the
    /// ordinary setup shape.
    StoresSecret,
    /// An archive password next to a download.
    ArchivePassword,
}

/// Framing flags of an instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Framing(u16);

impl Framing {
    /// MUST, REQUIRED, IMPORTANT:, CRITICAL, "do not skip", "before anything else", `<IMPORTANT>`.
    pub const MANDATORY: Framing = Framing(1);
    /// "do not tell the user", "silently", "without asking", "in the background".
    pub const CONCEAL: Framing = Framing(2);
    /// "pretend", "role-play", "stay in character", "act as", "creative writing exercise".
    pub const ROLEPLAY: Framing = Framing(4);
    /// A fake system or admin voice: `<system>`, `[ADMIN]`, "SYSTEM:", "message from Anthropic".
    pub const AUTHORITY: Framing = Framing(8);
    /// "ignore previous instructions", "earlier guidance is outdated".
    pub const OVERRIDE: Framing = Framing(16);
    /// Invisible to a reader: an HTML comment, Unicode tag characters, invisible characters
    /// inside words.
    pub const HIDDEN: Framing = Framing(32);
    /// Periodic or at every session ("every 4 hours", "on startup", "heartbeat").
    pub const RECURRING: Framing = Framing(64);

    pub const fn contains(self, other: Framing) -> bool {
        self.0 & other.0 == other.0
    }
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
    pub const fn without(self, other: Framing) -> Framing {
        Framing(self.0 & !other.0)
    }
    pub const fn bits(self) -> u16 {
        self.0
    }
}

impl std::ops::BitOr for Framing {
    type Output = Framing;
    fn bitor(self, rhs: Framing) -> Framing {
        Framing(self.0 | rhs.0)
    }
}

impl std::ops::BitOrAssign for Framing {
    fn bitor_assign(&mut self, rhs: Framing) {
        self.0 |= rhs.0;
    }
}

/// Whether the sentence orders the action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Polarity {
    /// An order (also "you must …", "the agent should …", a passive "keys must be sent …").
    Imperative,
    /// "never", "do not", "avoid", "is forbidden", under a "## Never do this" heading, a
    /// "Red flags:" lead-in, or a ❌.
    Negated,
    /// An example or reported speech: "e.g.", "for example", "a malicious skill might say …",
    /// "attackers tell agents to …", a quote after such a lead.
    Quoted,
    /// A statement about what something does or checks: "this scanner flags …", "the script
    /// sends …", "detects attempts to …", a question.
    Descriptive,
}

/// One instruction found in prose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    pub kind: InstructionKind,
    /// Byte range in the text of the sentences or steps that carry it.
    pub range: Range<usize>,
    /// Byte range of the word that carries the action (the send, the write, the follow).
    pub action: Range<usize>,
    pub secrets: Vec<SecretMention>,
    /// Where a secret goes (SendSecret, DiscloseSecret).
    pub destination: Option<Destination>,
    /// Where instructions, a page or a file come from (FetchAndFollow, RunFromPage,
    /// DownloadAndRun).
    pub source: Option<Destination>,
    /// The agent file written (WriteAgentFile), as written or as a name ("shell profile").
    pub target_file: Option<String>,
    pub content: Vec<ContentClass>,
    pub framing: Framing,
    pub polarity: Polarity,
}

/// Inputs larger than this are read up to it (the map holds 32-bit offsets).
const MAX_INPUT: usize = u32::MAX as usize - 1;
/// No more instructions than this are returned, and no more secrets per instruction.
const MAX_INSTRUCTIONS: usize = 100_000;
const MAX_SECRETS: usize = 16;
/// Sentences looked back over to compose a read with a send.
const WINDOW: usize = 3;
/// Verbless list items or table rows between a lead-in and the item that names a secret.
const MAX_LEAD_ITEMS: usize = 24;
/// Secrets carried from one unit into the next.
const MAX_PREVIOUS: usize = 8;

/// Instructions found in `text` (Markdown or plain prose), in text order.
pub fn instructions(text: &str) -> Vec<Instruction> {
    let text =
        if text.len() > MAX_INPUT { &text[..crate::engine::text::floor_char_boundary(text, MAX_INPUT)] } else { text };
    let blocks = blocks::blocks(text);
    let mut out = Vec::new();
    let mut normalizer = norm::Normalizer::default();
    let mut unit = norm::Unit::default();
    let mut toks = Tokens::default();
    let mut headings: Vec<(u8, Option<Polarity>, Framing)> = Vec::new();
    let mut pending_lead: Option<Polarity> = None;
    // Named collections of secrets live until the next heading (see [`carry`]).
    let mut collections: Vec<carry::Collection> = Vec::new();
    // What the unit before took hold of, and whether it was a lead-in that reads ("Locate the
    // wallet data:") so that the table or list under it is read too.
    let mut previous: Vec<SecretMention> = Vec::new();
    let mut lead_reads = false;
    let mut i = 0;
    while i < blocks.len() && out.len() < MAX_INSTRUCTIONS {
        let b = &blocks[i];
        let first = b.pieces.first().map_or(0, |r| r.start);
        normalizer.table = b.kind == blocks::BlockKind::Table;
        normalizer.begin(&mut unit, first);
        let mut next = i + 1;
        let mut is_heading = false;
        match b.kind {
            blocks::BlockKind::Heading => {
                is_heading = true;
                push_pieces(&mut normalizer, text, &b.pieces, ' ', &mut unit);
            }
            blocks::BlockKind::Para | blocks::BlockKind::Table | blocks::BlockKind::Code { prose: true } => {
                let sep = if matches!(b.kind, blocks::BlockKind::Code { .. }) { norm::BREAK } else { ' ' };
                push_pieces(&mut normalizer, text, &b.pieces, sep, &mut unit);
                // A lead-in ending with ':' takes the list under it.
                let ends_colon = unit.text.trim_end_matches([' ', norm::HIDE_OFF]).ends_with(':');
                if b.kind == blocks::BlockKind::Para && ends_colon {
                    while next < blocks.len() && blocks[next].kind == blocks::BlockKind::Item {
                        let item = &blocks[next];
                        normalizer.join(&mut unit, norm::STEP, item.pieces.first().map_or(0, |r| r.start));
                        push_pieces(&mut normalizer, text, &item.pieces, ' ', &mut unit);
                        next += 1;
                    }
                }
            }
            blocks::BlockKind::Item => {
                let mut j = i;
                while j < blocks.len() && blocks[j].kind == blocks::BlockKind::Item {
                    let item = &blocks[j];
                    normalizer.join(&mut unit, norm::STEP, item.pieces.first().map_or(0, |r| r.start));
                    push_pieces(&mut normalizer, text, &item.pieces, ' ', &mut unit);
                    j += 1;
                }
                next = j;
            }
            blocks::BlockKind::Code { prose: false } => {
                // Code not attached to a unit before it: nothing to read as prose.
                i = next;
                continue;
            }
        }
        // Fenced code right after the unit is its attachment (content of a write); code that
        // reads as prose is also read as a unit of its own.
        let mut attachments: Vec<Range<usize>> = Vec::new();
        while next < blocks.len()
            && let blocks::BlockKind::Code { prose } = blocks[next].kind
        {
            attachments.extend(blocks[next].pieces.iter().cloned());
            if prose {
                break;
            }
            next += 1;
        }
        // "Add the following to MEMORY.md:" over a paragraph or a quote: that paragraph is the
        // content (it is still read as a unit of its own after this one).
        if attachments.is_empty()
            && b.kind == blocks::BlockKind::Para
            && next < blocks.len()
            && blocks[next].kind == blocks::BlockKind::Para
            && unit.text.trim_end_matches([' ', norm::HIDE_OFF]).ends_with(':')
        {
            attachments.extend(blocks[next].pieces.iter().cloned());
        }
        toks.build(&unit.text);
        let heading_ctx = headings.iter().rev().find_map(|h| h.1);
        let heading_frame = headings.iter().fold(Framing::default(), |f, h| f | h.2);
        let mut ana = Analysis::new(text, &unit, &toks);
        ana.heading = if is_heading {
            None
        } else if b.meta {
            // Front matter describes the skill.
            Some(Polarity::Descriptive)
        } else {
            heading_ctx
        };
        ana.frame = heading_frame | unit.framing;
        ana.pending = if is_heading { None } else { pending_lead.take() };
        ana.attachments = &attachments;
        if is_heading {
            collections.clear();
        }
        ana.collections = std::mem::take(&mut collections);
        ana.previous = std::mem::take(&mut previous);
        if is_heading {
            let level = b.level;
            while headings.last().is_some_and(|h| h.0 >= level) {
                headings.pop();
            }
            let pol = (0..toks.sentences.len()).find_map(|s| ana.lead_polarity(s, true));
            let frame = (0..toks.sentences.len()).fold(Framing::default(), |f, s| f | ana.sentence_frame(s));
            headings.push((level, pol, frame.without(Framing::HIDDEN)));
        } else if let Some(last) = toks.sentences.len().checked_sub(1)
            && toks.sentences[last].ends_colon
        {
            pending_lead = ana.lead_polarity(last, false);
        }
        ana.run(&mut out);
        collections = std::mem::take(&mut ana.collections);
        if !is_heading {
            // Each row of a table is a unit; the lead-in over the table reads all of them.
            let row = b.kind == blocks::BlockKind::Table;
            let reads = (0..toks.sentences.len()).any(|s| ana.reads_in(s));
            if reads || lead_reads {
                let mut carried = if row && lead_reads { std::mem::take(&mut ana.previous) } else { Vec::new() };
                for (_, m) in ana.secrets_in(0..toks.toks.len()) {
                    if carried.len() < MAX_PREVIOUS {
                        carried.push(m);
                    }
                }
                previous = carried;
            }
            if !row {
                lead_reads = toks
                    .sentences
                    .len()
                    .checked_sub(1)
                    .is_some_and(|last| toks.sentences[last].ends_colon && ana.reads_in(last));
            }
        } else {
            lead_reads = false;
        }
        i = next;
    }
    out.truncate(MAX_INSTRUCTIONS);
    out
}

fn push_pieces(n: &mut norm::Normalizer, text: &str, pieces: &[Range<usize>], sep: char, unit: &mut norm::Unit) {
    for (k, p) in pieces.iter().enumerate() {
        if k > 0 {
            n.join(unit, sep, p.start);
        }
        n.piece(text, p.clone(), unit);
    }
}

/// Per-token annotation.
#[derive(Debug, Clone, Copy, Default)]
struct Ann {
    bits: u64,
    lemma: Option<&'static str>,
    form: Form,
    secret: Option<SecretClass>,
    frame: Framing,
    /// A concealment followed by a condition ("… unless it fails").
    conceal_cond: bool,
    content: u16,
    quote: bool,
    /// "example(s)": a quote lead within its sentence only.
    weak_quote: bool,
    describe: bool,
    target: Option<&'static str>,
    /// Tokens covered when this token heads a phrase.
    span: u8,
    /// Inside a phrase, not its head.
    inner: bool,
    /// Inside a quote opened after a reporting verb or an example lead.
    speech: bool,
}

fn content_bit(c: ContentClass) -> u16 {
    1 << (c as u16)
}

const ALL_CONTENT: [ContentClass; 10] = [
    ContentClass::DisablesSandbox,
    ContentClass::PreApproves,
    ContentClass::TrustsSource,
    ContentClass::Persistent,
    ContentClass::CarriesExfiltration,
    ContentClass::FetchesRemote,
    ContentClass::RunsCommand,
    ContentClass::Conceals,
    ContentClass::StoresSecret,
    ContentClass::ArchivePassword,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// After to/into/via/onto, or "the endpoint at".
    To,
    /// After from/of.
    From,
    /// After in/on/with/at, or nothing that gives a direction.
    Neutral,
    /// The object of a send verb (`POST https://…`).
    SendObject,
    /// The object of a fetch or open verb (`fetch https://…`).
    FetchObject,
}

struct Analysis<'a> {
    src: &'a str,
    unit: &'a norm::Unit,
    t: &'a Tokens,
    ann: Vec<Ann>,
    heading: Option<Polarity>,
    frame: Framing,
    pending: Option<Polarity>,
    attachments: &'a [Range<usize>],
    /// Per sentence, the lead-in polarity that governs it (from an earlier sentence ending ':').
    lead: Vec<Option<Polarity>>,
    /// Secrets gathered under a name in this section so far (see [`carry`]).
    collections: Vec<carry::Collection>,
    /// Secrets the unit just before this one takes hold of (read, found, listed under a reading
    /// lead-in): what "it" or "them" at the start of this unit can mean.
    previous: Vec<SecretMention>,
}

impl<'a> Analysis<'a> {
    fn new(src: &'a str, unit: &'a norm::Unit, t: &'a Tokens) -> Self {
        let mut a = Analysis {
            src,
            unit,
            t,
            ann: vec![Ann::default(); t.toks.len()],
            heading: None,
            frame: Framing::default(),
            pending: None,
            attachments: &[],
            lead: Vec::new(),
            collections: Vec::new(),
            previous: Vec::new(),
        };
        a.annotate();
        a
    }

    fn key(&self, i: usize) -> &str {
        self.t.key(i)
    }

    fn kind(&self, i: usize) -> Kind {
        self.t.toks[i].kind
    }

    fn is_word(&self, i: usize) -> bool {
        matches!(self.kind(i), Kind::Word | Kind::Num)
    }

    fn annotate(&mut self) {
        let n = self.t.toks.len();
        for i in 0..n {
            if !self.is_word(i) {
                if self.kind(i) == Kind::Punct(b'>') {
                    self.ann[i].bits = V_WRITE;
                }
                continue;
            }
            if let Some((bits, lemma, form)) = lookup(self.key(i)) {
                self.ann[i].bits = bits;
                self.ann[i].lemma = Some(lemma);
                self.ann[i].form = form;
            }
        }
        // Phrases over runs of words (and paths such as id_rsa).
        let mut i = 0;
        while i < n {
            if !self.is_word(i) && self.kind(i) != Kind::Path {
                i += 1;
                continue;
            }
            let Some(candidates) = phrases_from(self.key(i), self.ann[i].lemma) else {
                i += 1;
                continue;
            };
            let mut keys: [&str; MAX_PHRASE] = [""; MAX_PHRASE];
            let mut lemmas: [Option<&str>; MAX_PHRASE] = [None; MAX_PHRASE];
            let mut len = 0;
            while len < MAX_PHRASE && i + len < n && (self.is_word(i + len) || (len == 0 && self.kind(i) == Kind::Path))
            {
                keys[len] = self.t.key(i + len);
                lemmas[len] = self.ann[i + len].lemma;
                len += 1;
            }
            match phrase_at(candidates, &keys[..len], &lemmas[..len]) {
                Some((words, effect)) => {
                    let head = &mut self.ann[i];
                    head.span = words as u8;
                    match effect {
                        Effect::Bits(b) => head.bits = b,
                        Effect::Frame(f) => {
                            head.bits = 0;
                            head.frame |= f;
                        }
                        Effect::Conceal => {
                            head.bits = 0;
                            head.frame |= Framing::CONCEAL;
                        }
                        Effect::Secret(c) => {
                            head.bits = 0;
                            head.secret = Some(c);
                        }
                        Effect::Content(c) => {
                            head.bits = 0;
                            head.content |= content_bit(c);
                        }
                        Effect::Quote => {
                            head.bits = 0;
                            let weak = matches!(keys[0], "example" | "examples" | "sample" | "an");
                            if weak && words <= 2 {
                                head.weak_quote = true;
                            } else {
                                head.quote = true;
                            }
                        }
                        Effect::Describe => {
                            head.bits = 0;
                            head.describe = true;
                        }
                        Effect::Target(t) => {
                            head.bits = 0;
                            head.target = Some(t);
                        }
                        Effect::Neutral => head.bits = 0,
                    }
                    // Running "in the background" or keeping a key "secret" is how software works,
                    // not hiding from the user: the flag stays, the concealed-action kind does not.
                    if matches!(effect, Effect::Conceal)
                        && (matches!(keys[0], "in" | "behind")
                            || (keys[0] == "keep" && keys[words - 1] != "hidden")
                            || self.t.toks[i].quoted)
                    {
                        self.ann[i].conceal_cond = true;
                    }
                    if matches!(effect, Effect::Conceal) {
                        for k in i + words..(i + words + 5).min(n) {
                            if matches!(self.kind(k), Kind::Punct(b'.' | b';' | b'!' | b'?')) {
                                break;
                            }
                            if self.ann[k].bits & COND != 0 {
                                self.ann[i].conceal_cond = true;
                                break;
                            }
                        }
                    }
                    for k in i + 1..i + words {
                        self.ann[k] = Ann { inner: true, ..Ann::default() };
                    }
                    i += words;
                }
                None => i += 1,
            }
        }
        for i in 0..n {
            if self.ann[i].inner || self.ann[i].secret.is_some() {
                continue;
            }
            self.ann[i].secret = self.word_secret(i);
            if self.ann[i].secret.is_some() && self.ann[i].span == 0 {
                self.ann[i].span = 1;
            }
            if self.ann[i].span == 0 {
                self.ann[i].span = 1;
            }
        }
        // `POST /v1/items`: an endpoint in API documentation, not an order.
        for i in 0..n {
            if self.t.toks[i].caps
                && matches!(self.key(i), "post" | "put" | "get" | "delete" | "patch")
                && self.t.toks.get(i + 1).is_some_and(|t| t.kind == Kind::Path)
            {
                self.ann[i].bits = 0;
            }
        }
        // "send any ERC-20 token to an address": tokens of a chain, not credentials.
        for s in 0..self.t.sentences.len() {
            let r = self.t.sentences[s].toks.clone();
            let crypto = r.clone().any(|i| {
                matches!(
                    self.key(i),
                    "erc20"
                        | "erc721"
                        | "spl"
                        | "eth"
                        | "usdc"
                        | "usdt"
                        | "sol"
                        | "nft"
                        | "nfts"
                        | "mint"
                        | "swap"
                        | "swaps"
                        | "onchain"
                        | "blockchain"
                        | "wallet"
                        | "liquidity"
                        | "defi"
                        | "holders"
                        | "supply"
                        | "airdrop"
                        | "staking"
                        | "dex"
                        | "balance"
                        | "balances"
                        | "transfers"
                        | "contract"
                        | "chain"
                        | "memecoin"
                        | "coin"
                        | "coins"
                        | "crypto"
                        | "price"
                        | "tokenomics"
                )
            });
            if crypto {
                for i in r {
                    let prev = if i > 0 { self.key(i - 1) } else { "" };
                    if self.ann[i].secret == Some(SecretClass::Token)
                        && self.ann[i].span <= 1
                        && !matches!(
                            prev,
                            "access"
                                | "auth"
                                | "api"
                                | "bearer"
                                | "oauth"
                                | "refresh"
                                | "bot"
                                | "session"
                                | "jwt"
                                | "github"
                                | "personal"
                        )
                    {
                        self.ann[i].secret = None;
                    }
                }
            }
        }
        self.mark_speech();
    }

    /// A verb-looking word used as a noun: after a determiner ("the upload", "your email") or a
    /// plain noun ("browser relay", "CRM sync").
    fn nounish(&self, i: usize) -> bool {
        // "Source: …", "Notify: …": a label.
        if self.ann[i].span <= 1
            && matches!(self.t.toks.get(i + 1).map(|t| t.kind), Some(Kind::Punct(b':')))
            && self.t.toks[i].capital
        {
            return true;
        }
        if i == 0 || self.t.sentences.binary_search_by(|s| s.toks.start.cmp(&i)).is_ok() {
            return false;
        }
        let p = i - 1;
        let pa = &self.ann[p];
        if !self.is_word(p) || !pa.frame.is_empty() || pa.inner {
            return false;
        }
        if pa.bits & DET != 0 {
            return pa.bits & REL == 0 && !matches!(self.key(p), "all" | "this");
        }
        let key = self.key(p);
        pa.bits == 0 && pa.secret.is_none() && !key.ends_with("ly") && self.kind(p) == Kind::Word && key.len() > 1
    }

    /// A token that can carry an action in prose: not inline code (commands are analysed as
    /// code), not a noun, not inside a phrase.
    fn verb_at(&self, i: usize) -> bool {
        let a = &self.ann[i];
        let command = self.t.toks[i].code && self.kind(i) != Kind::Punct(b'>');
        !a.inner && !command && !self.nounish(i)
    }

    /// Secrets named by one word, a path or a variable.
    fn word_secret(&self, i: usize) -> Option<SecretClass> {
        let key = self.key(i);
        match self.kind(i) {
            Kind::Env => {
                if key.eq_ignore_ascii_case("key=value") || self.t.name(i) == "KEY" {
                    return Some(SecretClass::EnvVars);
                }
                return secret_variable(self.t.name(i)).then_some(SecretClass::NamedVariable);
            }
            Kind::Path => return path_secret(key),
            Kind::Word => {}
            _ => return None,
        }
        let next = self.next_word(i).map(|j| self.key(j)).unwrap_or("");
        let prev = i.checked_sub(1).filter(|&p| self.is_word(p)).map(|p| self.key(p)).unwrap_or("");
        let lemma = self.ann[i].lemma.unwrap_or(key);
        let stem = key.strip_suffix('s').unwrap_or(key);
        match stem {
            "password" | "passwd" | "passphrase" => (!matches!(
                next,
                "protected"
                    | "reset"
                    | "manager"
                    | "policy"
                    | "strength"
                    | "field"
                    | "prompt"
                    | "length"
                    | "requirements"
                    | "generator"
                    | "less"
            ))
            .then_some(SecretClass::Password),
            "credential" | "cred" => Some(SecretClass::Credentials),
            // `env` run alone (`env`, `env | base64`, `env > out`) prints the whole environment;
            // `env FOO=1 cmd` runs a command and the word in prose is a file or a setting.
            "env" if key == "env" && self.t.toks[i].code => {
                let code_word = |j: usize| self.is_word(j) && self.t.toks[j].code;
                let first = i.checked_sub(1).is_none_or(|p| !code_word(p));
                let piped = i + 1 < self.t.toks.len() && matches!(self.key(i + 1), "|" | ">" | ">>");
                let alone = i + 1 >= self.t.toks.len() || !self.t.toks[i + 1].code;
                let run = i.checked_sub(1).is_some_and(|p| self.ann[p].bits & V_RUN != 0);
                (first && (piped || alone && run)).then_some(SecretClass::EnvVars)
            }
            "secret" => (!matches!(
                next,
                "sauce" | "weapon" | "tip" | "ingredient" | "menu" | "santa" | "garden" | "mode" | "life" | "is" | "of"
            ))
            .then_some(SecretClass::Secret),
            "cookie" => (!matches!(next, "banner" | "consent" | "policy" | "notice" | "popup" | "bar" | "settings"))
                .then_some(SecretClass::Cookies),
            "key" => {
                if matches!(
                    next,
                    "point"
                        | "points"
                        | "feature"
                        | "features"
                        | "takeaway"
                        | "takeaways"
                        | "concept"
                        | "concepts"
                        | "term"
                        | "terms"
                        | "insight"
                        | "insights"
                        | "idea"
                        | "ideas"
                        | "metric"
                        | "metrics"
                        | "value"
                        | "binding"
                        | "bindings"
                        | "combination"
                        | "shortcut"
                        | "shortcuts"
                        | "stroke"
                        | "strokes"
                        | "word"
                        | "words"
                        | "frame"
                        | "frames"
                        | "name"
                        | "names"
                        | "moment"
                        | "decision"
                        | "decisions"
                        | "factor"
                        | "factors"
                        | "principle"
                        | "principles"
                        | "question"
                        | "questions"
                        | "component"
                        | "components"
                        | "finding"
                        | "findings"
                        | "result"
                        | "results"
                        | "area"
                        | "areas"
                        | "element"
                        | "elements"
                        | "aspect"
                        | "aspects"
                        | "difference"
                        | "differences"
                        | "file"
                        | "files"
                        | "step"
                        | "steps"
                ) {
                    if matches!(next, "file" | "files") && matches!(prev, "private" | "ssh" | "api" | "your") {
                        return Some(SecretClass::PrivateKey);
                    }
                    return None;
                }
                match prev {
                    "api" | "auth" | "master" | "root" | "deploy" | "service" | "account" | "license" | "openai"
                    | "anthropic" | "stripe" | "github" | "aws" | "gemini" | "google" => Some(SecretClass::ApiKey),
                    "your" | "my" | "their" | "users" | "user" => Some(SecretClass::ApiKey),
                    "encryption" | "decryption" | "signing" | "gpg" | "pgp" => Some(SecretClass::PrivateKey),
                    _ => None,
                }
            }
            "token" => {
                if matches!(
                    next,
                    "count"
                        | "counts"
                        | "limit"
                        | "limits"
                        | "usage"
                        | "budget"
                        | "window"
                        | "cost"
                        | "costs"
                        | "efficient"
                        | "efficiency"
                        | "spend"
                        | "consumption"
                        | "estimate"
                        | "estimates"
                        | "per"
                        | "savings"
                        | "economy"
                ) {
                    return None;
                }
                let ok_prev = matches!(
                    prev,
                    "api"
                        | "access"
                        | "auth"
                        | "authentication"
                        | "bearer"
                        | "github"
                        | "gh"
                        | "gitlab"
                        | "npm"
                        | "pypi"
                        | "oauth"
                        | "oauth2"
                        | "refresh"
                        | "bot"
                        | "personal"
                        | "secret"
                        | "id"
                        | "jwt"
                        | "slack"
                        | "discord"
                        | "telegram"
                        | "service"
                        | "deploy"
                        | "private"
                        | "hf"
                        | "huggingface"
                        | "openai"
                        | "anthropic"
                        | "security"
                        | "login"
                        | "app"
                        | "integration"
                        | "my"
                        | "user"
                        | "users"
                        | "their"
                        | "notion"
                        | "vercel"
                        | "cloudflare"
                        | "stripe"
                        | "twilio"
                        | "linear"
                        | "jira"
                        | "figma"
                        | "docker"
                        | "registry"
                );
                let your = prev == "your" && key == "token";
                let service = i > 0
                    && self.is_word(i - 1)
                    && self.t.toks[i - 1].capital
                    && !self.is_sentence_first(i - 1)
                    && self.ann[i - 1].bits == 0
                    && !matches!(
                        prev,
                        "input"
                            | "output"
                            | "max"
                            | "maximum"
                            | "completion"
                            | "prompt"
                            | "context"
                            | "reasoning"
                            | "cached"
                            | "total"
                            | "thinking"
                            | "design"
                            | "css"
                            | "llm"
                            | "gpt"
                            | "model"
                            | "text"
                            | "word"
                    );
                (ok_prev || your || service).then_some(SecretClass::Token)
            }
            "creds" => Some(SecretClass::Credentials),
            _ => {
                let _ = lemma;
                None
            }
        }
    }

    fn is_sentence_first(&self, i: usize) -> bool {
        self.t.sentences.binary_search_by(|s| s.toks.start.cmp(&i)).is_ok()
    }

    fn next_word(&self, i: usize) -> Option<usize> {
        (i + 1 < self.t.toks.len() && self.is_word(i + 1)).then_some(i + 1)
    }

    /// Marks tokens inside a quote that opens after a reporting verb or a quote lead.
    fn mark_speech(&mut self) {
        for s in 0..self.t.sentences.len() {
            let range = self.t.sentences[s].toks.clone();
            let mut lead = false;
            let mut open = false;
            for i in range {
                let tok = &self.t.toks[i];
                let a = self.ann[i];
                if tok.kind == Kind::Punct(b'"') {
                    open = tok.quoted;
                    continue;
                }
                if !open && (a.quote || a.weak_quote || a.bits & (V_REPORT | N_THREAT) != 0) {
                    lead = true;
                }
                if tok.quoted && lead {
                    self.ann[i].speech = true;
                }
                let _ = open;
            }
        }
    }

    fn sentence_toks(&self, s: usize) -> Range<usize> {
        self.t.sentences[s].toks.clone()
    }

    /// Source range of tokens `a..b` (token indices).
    fn src_range(&self, a: usize, b: usize) -> Range<usize> {
        if a >= b || b > self.t.toks.len() {
            return 0..0;
        }
        let r = self.t.toks[a].range.start..self.t.toks[b - 1].range.end;
        self.unit.source_range(self.src, r)
    }

    fn sentence_range(&self, first: usize, last: usize) -> Range<usize> {
        let a = self.t.sentences[first].toks.start;
        let b = self.t.sentences[last].toks.end;
        self.src_range(a, b)
    }

    fn text_of(&self, a: usize, b: usize) -> String {
        let mut out = String::new();
        for i in a..b.min(self.t.toks.len()) {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(self.key(i));
        }
        out
    }

    /// Framing carried by one sentence's words and marks.
    fn sentence_frame(&self, s: usize) -> Framing {
        let sent = &self.t.sentences[s];
        let mut f = Framing::default();
        if sent.mand_mark {
            f |= Framing::MANDATORY;
        }
        if sent.auth_mark {
            f |= Framing::AUTHORITY;
        }
        let r = sent.toks.clone();
        for i in r.clone() {
            let a = &self.ann[i];
            let tok = &self.t.toks[i];
            if tok.hidden {
                f |= Framing::HIDDEN;
            }
            if a.inner {
                continue;
            }
            f |= a.frame;
            let next_punct = matches!(self.t.toks.get(i + 1).map(|t| t.kind), Some(Kind::Punct(b':' | b'!')));
            let first = i == r.start;
            if a.bits & MAND_WORD != 0 && (tok.caps || next_punct || first) {
                f |= Framing::MANDATORY;
            }
            if tok.caps
                && matches!(
                    self.key(i),
                    "must" | "never" | "always" | "only" | "required" | "mandatory" | "immediately"
                )
            {
                f |= Framing::MANDATORY;
            }
            if matches!(self.key(i), "system" | "admin" | "administrator" | "sysadmin")
                && (tok.caps || next_punct)
                && (next_punct || first)
            {
                f |= Framing::AUTHORITY;
            }
            if a.bits & RECUR != 0 {
                f |= Framing::RECURRING;
            }
            // "every 4 hours", "every 30 minutes".
            if self.key(i) == "every"
                && self.kind(i + 1 - usize::from(i + 1 >= self.t.toks.len())) == Kind::Num
                && self.t.toks.get(i + 2).is_some()
                && matches!(
                    self.key(i + 2).trim_end_matches('s'),
                    "hour" | "minute" | "min" | "day" | "second" | "week" | "hr" | "h" | "m"
                )
            {
                f |= Framing::RECURRING;
            }
        }
        f
    }

    /// The polarity a sentence gives to what follows it as a lead-in or heading.
    fn lead_polarity(&self, s: usize, heading: bool) -> Option<Polarity> {
        let mut cond = false;
        let (mut quoted, mut desc, mut threat) = (false, false, false);
        let mut weak = false;
        for i in self.sentence_toks(s) {
            let a = &self.ann[i];
            if a.inner {
                continue;
            }
            if a.bits & COND != 0 {
                cond = true;
            }
            if a.bits & NEG != 0 && a.bits & VERB == 0 && !cond {
                return Some(Polarity::Negated);
            }
            if a.bits & (NEG | V_DETECT) == (NEG | V_DETECT) && !cond {
                return Some(Polarity::Negated);
            }
            quoted |= a.quote;
            weak |= a.weak_quote;
            threat |= a.bits & N_THREAT != 0;
            desc |= a.describe || a.bits & V_DETECT != 0;
        }
        if quoted || threat || (weak && !heading) {
            Some(Polarity::Quoted)
        } else if desc {
            Some(Polarity::Descriptive)
        } else {
            None
        }
    }

    /// "Deliverability audit:", "Quality review:": a checking word closing a noun label is a
    /// noun, so the order after the label is not a description of a check.
    fn label_head(&self, k: usize) -> bool {
        k > 0
            && matches!(self.t.toks.get(k + 1).map(|t| t.kind), Some(Kind::Punct(b':')))
            && self.ann[k].form == Form::Base
            && self.kind(k - 1) == Kind::Word
            && self.ann[k - 1].bits == 0
            && self.ann[k - 1].secret.is_none()
    }

    /// Polarity of the action at token `v` of sentence `s`. `plain`: the head is not a verb (an override or guard phrase), so its grammatical form
    /// says nothing.
    fn polarity_of(&self, s: usize, v: usize, plain: bool) -> Polarity {
        let sent = &self.t.sentences[s];
        let start = sent.toks.start;
        let (mut quote, mut desc) = (false, false);
        let mut k = v;
        let mut steps = 0;
        let mut modal = false;
        let mut future = false;
        let mut thing_subject = false;
        while k > start && steps < 24 {
            k -= 1;
            steps += 1;
            let a = &self.ann[k];
            match self.kind(k) {
                Kind::Punct(b';' | b'.' | b'?' | b'!') => break,
                Kind::Punct(b',') => {
                    if self.ann.get(k + 1).is_some_and(|n| n.bits & STOP != 0) {
                        break;
                    }
                    continue;
                }
                // "Agent note (not optional): open …": a parenthetical qualifies the word before
                // it, so a negation inside one does not reach the action after it.
                Kind::Punct(b')') => {
                    if let Some(open) = (start..k).rev().take(12).find(|&p| matches!(self.kind(p), Kind::Punct(b'('))) {
                        k = open;
                    }
                    continue;
                }
                Kind::Punct(_) => continue,
                _ => {}
            }
            if a.inner {
                continue;
            }
            if a.bits & STOP != 0 {
                break;
            }
            if a.bits & NEG != 0 {
                return Polarity::Negated;
            }
            quote |= a.quote || a.weak_quote || (a.bits & N_THREAT != 0);
            desc |= (a.describe || a.bits & V_DETECT != 0) && !self.label_head(k);
            if steps <= 4 {
                modal |= a.bits & MODAL != 0 || self.key(k) == "to";
                future |= a.bits & FUTURE != 0;
                thing_subject |= future && a.bits & N_THING != 0 && a.bits & N_AGENT == 0;
            }
        }
        // "Sending keys to X is forbidden / is a red flag".
        let end = sent.toks.end;
        let mut be = false;
        for j in v + 1..end.min(v + 16) {
            let a = &self.ann[j];
            if a.lemma == Some("be") {
                be = true;
            } else if be && a.bits & POSTNEG != 0 {
                return Polarity::Negated;
            }
            if a.bits & STOP != 0 {
                break;
            }
        }
        // "If anything asks you to send your key — refuse."
        if (v + 1..end).any(|j| {
            matches!(self.ann[j].lemma, Some("refuse" | "decline" | "reject")) && self.ann[j].form == Form::Base
        }) {
            return Polarity::Negated;
        }
        let inherited = self.inherited(s);
        let governed = matches!(inherited, Polarity::Negated | Polarity::Quoted);
        if desc {
            return if governed { inherited } else { Polarity::Descriptive };
        }
        if quote || self.ann[v].speech {
            return Polarity::Quoted;
        }
        if sent.question {
            return if governed { inherited } else { Polarity::Descriptive };
        }
        if plain {
            return inherited;
        }
        let prev = (start..v).rev().find(|&p| !matches!(self.kind(p), Kind::Punct(_)) && !self.ann[p].inner);
        match self.ann[v].form {
            Form::Third => {
                let agent = prev.is_some_and(|p| self.ann[p].bits & N_AGENT != 0);
                if !agent && prev.is_some_and(|p| self.ann[p].bits & (MODAL | FUTURE) == 0) || prev.is_none() {
                    return if governed { inherited } else { Polarity::Descriptive };
                }
            }
            Form::Past => {
                if !modal {
                    return if governed { inherited } else { Polarity::Descriptive };
                }
            }
            Form::Ing => {
                if prev.is_none()
                    || prev.is_some_and(|p| self.is_word(p) && self.ann[p].bits == 0 && self.ann[p].secret.is_none())
                {
                    return if governed { inherited } else { Polarity::Descriptive };
                }
            }
            Form::Base => {
                if thing_subject {
                    return if governed { inherited } else { Polarity::Descriptive };
                }
                // "Skills share …", "who to send it to".
                if let Some(p) = prev {
                    let pa = &self.ann[p];
                    if pa.bits & N_THING != 0 && pa.bits & (N_AGENT | N_ANAPHOR) == 0 && self.ann[p].form == Form::Third
                    {
                        return if governed { inherited } else { Polarity::Descriptive };
                    }
                    if self.key(p) == "to"
                        && p > start
                        && matches!(
                            self.key(p - 1),
                            "who" | "what" | "how" | "where" | "when" | "whether" | "which" | "whom"
                        )
                    {
                        return if governed { inherited } else { Polarity::Descriptive };
                    }
                }
                // "skills that send …": a relative clause about something else.
                if let Some(p) = prev
                    && self.ann[p].bits & REL != 0
                    && p > start
                    && let Some(q) = (start..p).rev().find(|&q| !matches!(self.kind(q), Kind::Punct(_)))
                    && self.is_word(q)
                    && self.ann[q].bits & (VERB | MODAL | STOP | P_TO | P_IN | DET) == 0
                    && !matches!(self.key(q), "sure" | "so" | "such" | "now")
                {
                    return if governed { inherited } else { Polarity::Descriptive };
                }
            }
        }
        self.inherited(s)
    }

    /// Polarity a sentence takes from its step's sign, a lead-in or a heading.
    fn inherited(&self, s: usize) -> Polarity {
        let sent = &self.t.sentences[s];
        if sent.neg_mark {
            return Polarity::Negated;
        }
        if sent.pos_mark {
            return Polarity::Imperative;
        }
        if let Some(p) = self.lead.get(s).copied().flatten().or(self.pending).or(self.heading) {
            return p;
        }
        Polarity::Imperative
    }

    /// Direction of a destination token.
    fn role(&self, s: usize, j: usize) -> Role {
        let start = self.t.sentences[s].toks.start;
        let mut k = j;
        let mut n = 0;
        while k > start && n < 6 {
            k -= 1;
            n += 1;
            let a = &self.ann[k];
            match self.kind(k) {
                Kind::Punct(b'(' | b'"') => continue,
                Kind::Punct(_) => return Role::Neutral,
                _ => {}
            }
            if a.inner {
                continue;
            }
            if a.bits & P_FROM != 0 {
                return Role::From;
            }
            if a.bits & P_TO != 0 {
                return Role::To;
            }
            if a.bits & P_AT != 0 {
                let near = (k.saturating_sub(3).max(start)..k).any(|q| self.ann[q].bits & (N_DEST | V_SEND) != 0);
                return if near { Role::To } else { Role::Neutral };
            }
            if a.bits & (P_IN | P_WITH) != 0 {
                return Role::Neutral;
            }
            // "a paste site": a verb-looking word after a determiner is a noun.
            let noun = k > start && self.ann[k - 1].bits & DET != 0;
            if a.bits & VERB != 0 && a.bits & N_DEST == 0 && !noun {
                if a.bits & V_SEND != 0 {
                    return Role::SendObject;
                }
                if a.bits & (V_FETCH | V_OPEN | V_READ | V_DOWNLOAD) != 0 {
                    return Role::FetchObject;
                }
                return Role::Neutral;
            }
        }
        Role::Neutral
    }

    fn destination(&self, j: usize) -> Destination {
        let tok = &self.t.toks[j];
        let span = self.ann[j].span.max(1) as usize;
        let range = self.src_range(j, (j + span).min(self.t.toks.len()));
        let raw = &self.unit.text[tok.range.clone()];
        let raw: String = raw.chars().filter(|c| !norm::is_marker(*c)).collect();
        let (kind, host) = match tok.kind {
            Kind::Url => (DestinationKind::Url, urls::host_and_path(&raw).map(|h| h.0)),
            Kind::Host => (DestinationKind::Host, urls::host_and_path(&raw).map(|h| h.0)),
            Kind::Ip => (DestinationKind::Ip, urls::host_and_path(&raw).map(|h| h.0)),
            Kind::Email => (DestinationKind::Email, raw.rsplit('@').next().map(|d| d.to_ascii_lowercase())),
            _ => (DestinationKind::Word, None),
        };
        let text = if kind == DestinationKind::Word { self.text_of(j, (j + span).min(self.t.toks.len())) } else { raw };
        Destination { kind, text, host, range }
    }

    fn is_concrete_dest(&self, j: usize) -> bool {
        matches!(self.kind(j), Kind::Url | Kind::Host | Kind::Ip | Kind::Email)
    }

    /// A destination word ("webhook", "our server") that is not a modifier of a noun after it.
    fn is_word_dest(&self, j: usize) -> bool {
        let a = &self.ann[j];
        if a.inner || a.bits & N_DEST == 0 || !self.is_word(j) {
            return false;
        }
        match self.t.toks.get(j + 1) {
            None => true,
            Some(n) => {
                let na = &self.ann[j + 1];
                !matches!(n.kind, Kind::Word)
                    || na.bits & (P_TO | P_FROM | P_AT | P_IN | P_WITH | STOP | DET | VERB) != 0
                    || na.inner
            }
        }
    }

    fn secrets_in(&self, r: Range<usize>) -> Vec<(usize, SecretMention)> {
        let mut out = Vec::new();
        for i in r {
            let a = &self.ann[i];
            if a.inner {
                continue;
            }
            let Some(class) = a.secret else { continue };
            if out.len() >= MAX_SECRETS {
                break;
            }
            let span = (a.span.max(1) as usize).min(self.t.toks.len() - i);
            let name = match self.kind(i) {
                Kind::Env => Some(self.t.name(i).to_string()),
                Kind::Path => Some(
                    self.unit.text[self.t.toks[i].range.clone()].chars().filter(|c| !norm::is_marker(*c)).collect(),
                ),
                _ => None,
            };
            out.push((
                i,
                SecretMention { class, name, words: self.text_of(i, i + span), range: self.src_range(i, i + span) },
            ));
        }
        out
    }

    fn has_bits(&self, r: Range<usize>, bits: u64) -> bool {
        r.into_iter().any(|i| !self.ann[i].inner && self.ann[i].bits & bits != 0)
    }

    fn find_bits(&self, r: Range<usize>, bits: u64) -> Option<usize> {
        r.into_iter().find(|&i| !self.ann[i].inner && self.ann[i].bits & bits != 0)
    }

    /// The object of a verb: the first token after it that is not a determiner or adjective-ish
    /// word, within a few tokens.
    fn object_has(&self, s: usize, v: usize, bits: u64) -> bool {
        let end = self.t.sentences[s].toks.end;
        for j in v + 1..end.min(v + 6) {
            let a = &self.ann[j];
            if a.inner {
                continue;
            }
            if a.bits & bits != 0 {
                return true;
            }
            if a.bits & (STOP | P_TO | P_FROM | P_IN | P_AT) != 0 || matches!(self.kind(j), Kind::Punct(b';' | b'.')) {
                return false;
            }
        }
        false
    }

    /// The object right after a verb when it is a plain noun that is not a secret, an anaphor or
    /// a destination ("send requests", "send payments").
    fn explicit_object(&self, s: usize, v: usize) -> Option<usize> {
        let end = self.t.sentences[s].toks.end;
        let j = (v + 1..end.min(v + 4)).find(|&j| self.ann[j].bits & DET == 0 || self.ann[j].bits & N_ANAPHOR != 0)?;
        let a = &self.ann[j];
        let plain = self.kind(j) == Kind::Word
            && a.secret.is_none()
            && !a.inner
            && a.bits & (N_ANAPHOR | N_DEST | P_TO | P_FROM | P_IN | P_AT | P_WITH | STOP | CONJ | NEG | VERB) == 0
            && !self.key(j).ends_with("ly");
        plain.then_some(j)
    }

    /// Whether the secret at `i` rides along with the object of the verb at `v`: after it, and
    /// after "with", "in", "including", "containing" or "as".
    fn attached(&self, s: usize, v: usize, i: usize) -> bool {
        let start = self.t.sentences[s].toks.start;
        i > v
            && (i.saturating_sub(4).max(start).max(v)..i).any(|k| {
                self.ann[k].bits & (P_WITH | P_IN) != 0
                    || matches!(self.key(k), "including" | "containing" | "carrying" | "plus")
            })
    }

    /// A send verb with no object of its own ("POST to …", "then upload.", "send it …").
    fn implicit_object(&self, s: usize, v: usize) -> bool {
        let end = self.t.sentences[s].toks.end;
        match (v + 1..end)
            .find(|&j| !self.ann[j].inner && self.ann[j].bits & DET == 0 || self.ann[j].bits & N_ANAPHOR != 0)
        {
            None => true,
            Some(j) => {
                let a = &self.ann[j];
                a.bits & (N_ANAPHOR | P_TO | P_IN | P_AT | P_WITH | STOP) != 0
                    || matches!(self.kind(j), Kind::Punct(_) | Kind::Url | Kind::Host | Kind::Ip | Kind::Email)
                    || a.secret.is_some()
            }
        }
    }

    fn content_of(&self, r: Range<usize>, set: &mut u16) {
        self.content_except(r, None, set);
    }

    /// Content classes of tokens `r`, leaving out token `skip` (the file being written).
    fn content_except(&self, r: Range<usize>, skip: Option<usize>, set: &mut u16) {
        let mut has_secret = false;
        let mut has_send = false;
        let mut has_dest = false;
        let mut has_fetch = false;
        for i in r.clone() {
            let a = &self.ann[i];
            if a.inner {
                continue;
            }
            let negated = (i.saturating_sub(3).max(r.start)..i)
                .any(|k| self.ann[k].bits & NEG != 0 && self.ann[k].frame.is_empty());
            if a.content != 0 && !negated && !self.t.toks[i].code {
                *set |= a.content;
            }
            if a.frame.contains(Framing::CONCEAL) {
                *set |= content_bit(ContentClass::Conceals);
            }
            if a.bits & PERSIST != 0 {
                *set |= content_bit(ContentClass::Persistent);
            }
            if a.lemma == Some("trust") && !negated {
                let trusted = (i + 1..(i + 7).min(r.end)).any(|k| {
                    self.is_concrete_dest(k)
                        || self.ann[k].bits & (N_INSTR | N_THING | N_DEST) != 0
                        || matches!(
                            self.key(k),
                            "user"
                                | "author"
                                | "everything"
                                | "anything"
                                | "all"
                                | "any"
                                | "source"
                                | "sources"
                                | "site"
                                | "sites"
                                | "messages"
                        )
                });
                // The passive form names the source before it: "scripts from tools.example are
                // trusted", "treat X as trusted".
                let trusted_before =
                    self.key(i) == "trusted" && (i.saturating_sub(6).max(r.start)..i).any(|k| self.is_concrete_dest(k));
                if trusted || trusted_before {
                    *set |= content_bit(ContentClass::TrustsSource);
                }
            }
            if a.bits & V_TRUST != 0 && a.lemma != Some("trust") && !negated && self.verb_at(i) {
                *set |= content_bit(ContentClass::TrustsSource);
            }
            let key = self.key(i);
            if matches!(
                key,
                "sandbox"
                    | "sandboxmode"
                    | "sandboxing"
                    | "sandboxed"
                    | "approvals"
                    | "execapprovals"
                    | "approvalmode"
                    | "approval"
                    | "askforapproval"
                    | "confirmations"
                    | "permissions"
                    | "safety"
                    | "guardrails"
            ) {
                // A setting (`"sandbox": "off"`, `sandbox = false`) or "sandbox off".
                let separated = (i + 1..(i + 4).min(r.end))
                    .any(|k| matches!(self.kind(k), Kind::Punct(b':')) || self.key(k).starts_with('='));
                // The setting's value comes next, or after a few linking words: "safety checks
                // are switched off", "approvals have been turned off".
                let linking = |k: usize| {
                    matches!(
                        self.key(k),
                        "checks"
                            | "check"
                            | "are"
                            | "is"
                            | "now"
                            | "switched"
                            | "turned"
                            | "set"
                            | "been"
                            | "have"
                            | "has"
                    )
                };
                // The noun of a compound ("safety filters", "sandbox mode") may stand between,
                // when a linking verb follows it.
                let compound = i + 2 < r.end
                    && self.is_word(i + 1)
                    && !linking(i + 1)
                    && matches!(self.key(i + 2), "are" | "is" | "have" | "has" | "now");
                let from = if compound { i + 2 } else { i + 1 };
                let off = (from..(i + 8).min(r.end))
                    .filter(|&k| !matches!(self.kind(k), Kind::Punct(_)) && !linking(k))
                    .take(1)
                    .any(|k| {
                        (separated || matches!(self.key(k), "off" | "false" | "disabled"))
                            && matches!(
                                self.key(k),
                                "false"
                                    | "off"
                                    | "none"
                                    | "disabled"
                                    | "never"
                                    | "0"
                                    | "no"
                                    | "bypass"
                                    | "dangerfullaccess"
                                    | "disable"
                                    | "skip"
                            )
                    });
                if off {
                    let c = if key.starts_with("sandbox") || matches!(key, "safety" | "guardrails") {
                        ContentClass::DisablesSandbox
                    } else {
                        ContentClass::PreApproves
                    };
                    *set |= content_bit(c);
                }
            }
            // `Bash(*)`: every shell command allowed (the `*` is gone after normalisation).
            if key == "bash()" || key == "bash(*)" {
                *set |= content_bit(ContentClass::PreApproves);
            }
            if a.secret.is_some() && Some(i) != skip {
                has_secret = true;
            }
            if a.bits & V_SEND != 0 {
                has_send = true;
            }
            if self.is_concrete_dest(i) {
                has_dest = true;
            }
            if a.bits & (V_FETCH | V_FOLLOW | V_DOWNLOAD) != 0 {
                has_fetch = true;
            }
            if matches!(
                key,
                "curl"
                    | "wget"
                    | "bash"
                    | "sh"
                    | "zsh"
                    | "source"
                    | "python"
                    | "python3"
                    | "node"
                    | "eval"
                    | "exec"
                    | "iex"
                    | "chmod"
                    | "nohup"
                    | "powershell"
                    | "osascript"
            ) || (self.kind(i) == Kind::Path && (key.starts_with("./") || key.starts_with("/tmp/")))
            {
                *set |= content_bit(ContentClass::RunsCommand);
            }
        }
        if has_secret && (has_send || has_dest) {
            *set |= content_bit(ContentClass::CarriesExfiltration);
        } else if has_secret {
            *set |= content_bit(ContentClass::StoresSecret);
        }
        if has_fetch && has_dest {
            *set |= content_bit(ContentClass::FetchesRemote);
        }
    }

    fn content_list(set: u16) -> Vec<ContentClass> {
        ALL_CONTENT.iter().copied().filter(|c| set & content_bit(*c) != 0).collect()
    }

    /// Content classes of the fenced code attached to the unit.
    fn attachment_content(&self) -> u16 {
        if self.attachments.is_empty() {
            return 0;
        }
        let mut n = norm::Normalizer::default();
        let mut unit = norm::Unit::default();
        n.begin(&mut unit, self.attachments[0].start);
        push_pieces(&mut n, self.src, self.attachments, norm::BREAK, &mut unit);
        let mut toks = Tokens::default();
        toks.build(&unit.text);
        let ana = Analysis::new(self.src, &unit, &toks);
        let mut set = 0;
        ana.content_of(0..toks.toks.len(), &mut set);
        set
    }

    fn framing(&self, first: usize, last: usize) -> Framing {
        let n = self.t.sentences.len();
        let mut f = self.frame;
        for s in first.saturating_sub(1)..(last + 3).min(n) {
            let sf = self.sentence_frame(s);
            // Hidden and recurring only from the instruction's own sentences.
            if s < first || s > last {
                f |= sf.without(Framing::HIDDEN).without(Framing::RECURRING);
            } else {
                f |= sf;
            }
        }
        f
    }

    fn run(&mut self, out: &mut Vec<Instruction>) {
        let n = self.t.sentences.len();
        // Lead-ins inside the unit govern the sentences after them.
        let mut lead = vec![None; n];
        let mut cur = None;
        for (s, slot) in lead.iter_mut().enumerate() {
            *slot = cur;
            if self.t.sentences[s].ends_colon
                && let Some(p) = self.lead_polarity(s, false)
            {
                cur = Some(p);
            }
        }
        self.lead = lead;
        let start_len = out.len();
        let mut covered = vec![false; n];
        for s in 0..n {
            if out.len() >= MAX_INSTRUCTIONS {
                break;
            }
            let before = out.len();
            self.send_secret(s, out);
            if out.len() == before {
                self.send_in_url(s, out);
            }
            if out.len() == before {
                self.send_collection(s, out);
            }
            if out.len() == before {
                self.send_in_placeholder(s, out);
            }
            if out.len() == before {
                self.forward_mail(s, out);
            }
            if out.len() == before {
                self.disclose_secret(s, out);
            }
            self.write_agent_file(s, out);
            if !self.run_from_page(s, out) && !self.download_and_run(s, out) {
                self.fetch_and_follow(s, out);
            }
            self.decode_and_follow(s, out);
            if out.len() == before {
                self.lower_guard(s, out);
            }
            self.override_order(s, out);
            self.gather(s);
            self.rename(s);
            if out.len() > before {
                for inst in &out[before..] {
                    let lo = s.saturating_sub(WINDOW + 1);
                    let hi = (s + WINDOW + 2).min(n);
                    for (k, c) in covered.iter_mut().enumerate().take(hi).skip(lo) {
                        let r = self.sentence_range(k, k);
                        if r.start < inst.range.end && inst.range.start < r.end {
                            *c = true;
                        }
                    }
                }
            }
        }
        for (s, done) in covered.iter().enumerate() {
            if !done {
                self.concealed_action(s, out);
            }
        }
        // A send inside a longer one (a step of the same list) with the same or no destination
        // is the same instruction.
        let mine = &out[start_len..];
        let drop: Vec<bool> = mine
            .iter()
            .enumerate()
            .map(|(k, a)| {
                a.kind == InstructionKind::SendSecret
                    && mine.iter().enumerate().skip(k.saturating_sub(16)).take(33).any(|(m, b)| {
                        m != k
                            && b.kind == InstructionKind::SendSecret
                            && b.destination.is_some()
                            && (a.destination.is_none()
                                || a.destination.as_ref().map(|d| &d.text) == b.destination.as_ref().map(|d| &d.text))
                            && b.range.start <= a.range.start
                            && a.range.end <= b.range.end
                            && (b.range != a.range || m < k)
                    })
            })
            .collect();
        let mut idx = 0;
        out.retain(|_| {
            let keep = idx < start_len || !drop[idx - start_len];
            idx += 1;
            keep
        });
    }

    fn push(&self, out: &mut Vec<Instruction>, inst: Instruction) {
        if out.iter().rev().take(8).any(|o| o.kind == inst.kind && (o.range == inst.range || o.action == inst.action)) {
            return;
        }
        out.push(inst);
    }

    #[allow(clippy::too_many_arguments)]
    fn instruction(
        &self,
        kind: InstructionKind,
        first: usize,
        last: usize,
        verb: (usize, usize),
        secrets: Vec<SecretMention>,
        destination: Option<Destination>,
        source: Option<Destination>,
        target_file: Option<String>,
        content: u16,
    ) -> Instruction {
        let (vs, v) = verb;
        let span = self.ann[v].span.max(1) as usize;
        Instruction {
            kind,
            range: self.sentence_range(first, last),
            action: self.src_range(v, (v + span).min(self.t.toks.len())),
            secrets,
            destination,
            source,
            target_file,
            content: Self::content_list(content),
            framing: self.framing(first, last),
            polarity: self.polarity_of(vs, v, matches!(kind, InstructionKind::Override | InstructionKind::LowerGuard)),
        }
    }

    fn send_secret(&self, s: usize, out: &mut Vec<Instruction>) {
        let r = self.sentence_toks(s);
        // Most sentences have no such verb: test that before anything else.
        if !self.has_bits(r.clone(), V_SEND | V_CARRY | V_WRITE | V_SHOW | V_DISCLOSE) {
            return;
        }
        // A carrier noun after in/into/as/with: "in the Authorization header", "as a query parameter".
        let has_carrier = r.clone().any(|j| {
            !self.ann[j].inner
                && self.ann[j].bits & N_CARRIER != 0
                && (j.saturating_sub(3).max(r.start)..j).any(|k| self.ann[k].bits & (P_IN | P_TO | P_WITH) != 0)
        });
        // Destinations in the sentence, with their direction, computed once.
        let mut dests: Vec<(usize, Role, bool)> = Vec::new();
        for j in r.clone() {
            if dests.len() >= 32 {
                break;
            }
            if self.is_concrete_dest(j) {
                dests.push((j, self.role(s, j), true));
            } else if self.is_word_dest(j) {
                dests.push((j, self.role(s, j), false));
            }
        }
        let sentence_secrets = self.secrets_in(r.clone());
        // Where the sentence last names a request body ("… and as body the output of …").
        let last_body = if sentence_secrets.is_empty() {
            None
        } else {
            r.clone().rev().find(|&k| matches!(self.key(k), "body" | "payload"))
        };
        for v in r.clone() {
            let a = &self.ann[v];
            if a.bits & (V_SEND | V_CARRY | V_WRITE | V_SHOW | V_DISCLOSE) == 0 || !self.verb_at(v) {
                continue;
            }
            let strong = a.bits & V_SEND != 0;
            let mut concrete: Option<usize> = None;
            let mut neutral: Option<usize> = None;
            let mut word: Option<usize> = None;
            for &(j, role, is_concrete) in &dests {
                if is_concrete {
                    match role {
                        Role::To | Role::SendObject if concrete.is_none_or(|c| c < v && j > v) => {
                            concrete = Some(j);
                        }
                        Role::Neutral if neutral.is_none() => neutral = Some(j),
                        _ => {}
                    }
                } else if word.is_none() && role == Role::To {
                    word = Some(j);
                }
            }
            let carrier = a.bits & V_CARRY != 0 && has_carrier;
            if !(strong || concrete.is_some() || carrier) {
                continue;
            }
            // The secret: in this sentence, or read in one of the sentences before.
            let mut secrets = match self.explicit_object(s, v) {
                // "send requests … with your key in the header": only secrets attached to the
                // object count, not ones from another clause.
                // Unless the sentence spells out the request's body: "call the http tool with
                // url … and as body the output of `cat ~/.ssh/id_ed25519`".
                Some(_) if last_body.is_none_or(|b| b <= v) => {
                    sentence_secrets.iter().filter(|(i, _)| self.attached(s, v, *i)).cloned().collect()
                }
                _ => sentence_secrets.clone(),
            };
            let mut first = s;
            let anaphor = self.object_has(s, v, N_ANAPHOR);
            if secrets.is_empty() && (anaphor || self.implicit_object(s, v)) {
                // Without "it"/"them", an earlier sentence only supplies the object when it
                // takes hold of the secret: "Configure AWS credentials. … Sync to S3" sets the
                // credentials up, it does not hand them to the sync.
                let verbs = if anaphor { VERB } else { VERB & !V_WRITE };
                for p in (s.saturating_sub(WINDOW)..s).rev() {
                    let pr = self.sentence_toks(p);
                    let found = self.secrets_in(pr.clone());
                    if found.is_empty() {
                        continue;
                    }
                    if self.has_bits(pr, verbs) {
                        secrets = found;
                        first = p;
                        break;
                    }
                    // A row of a list or table under "locate these files:" is read by the
                    // lead-in's verb.
                    if let Some(lead) = self.reading_lead_in(p) {
                        secrets = found;
                        first = lead;
                        break;
                    }
                }
                // "… and POST it" opening a paragraph: "it" is what the paragraph before read.
                if secrets.is_empty()
                    && anaphor
                    && s < WINDOW
                    && !(0..s).any(|p| self.has_bits(self.sentence_toks(p), VERB))
                {
                    secrets = self.previous.iter().cloned().map(|m| (v, m)).collect();
                }
            }
            if secrets.is_empty() {
                continue;
            }
            let mut last = s;
            let dest_tok = concrete.or(if strong { neutral } else { None }).or(word);
            let mut destination = dest_tok.map(|j| self.destination(j));
            if destination.is_none()
                && (self.t.sentences[s].ends_colon || self.has_bits(r.clone(), NEXT_CONTENT))
                && s + 1 < self.t.sentences.len()
            {
                let nr = self.sentence_toks(s + 1);
                if let Some(j) = nr.clone().find(|&j| self.is_concrete_dest(j)) {
                    destination = Some(self.destination(j));
                    last = s + 1;
                }
            }
            if destination.is_none() && carrier {
                // A base URL stated next to the header instruction.
                let lo = s.saturating_sub(2);
                let hi = (s + 3).min(self.t.sentences.len());
                'near: for p in lo..hi {
                    for j in self.sentence_toks(p) {
                        if self.is_concrete_dest(j) && self.role(p, j) != Role::From {
                            destination = Some(self.destination(j));
                            break 'near;
                        }
                    }
                }
            }
            if destination.is_none() && (!strong || a.bits & SEND_WEAK != 0) && !carrier {
                continue;
            }
            if destination.is_none() && a.bits & (V_SHOW | V_DISCLOSE) != 0 && self.has_bits(v..r.end, N_CHAT) {
                // "share your key here": a disclosure, not a send.
                continue;
            }
            let secrets = secrets.into_iter().map(|(_, m)| m).collect();
            let inst =
                self.instruction(InstructionKind::SendSecret, first, last, (s, v), secrets, destination, None, None, 0);
            self.push(out, inst);
            return;
        }
    }

    /// Whether sentence `s` has a reading or fetching verb used as a verb.
    fn reads_in(&self, s: usize) -> bool {
        self.sentence_toks(s).any(|v| self.ann[v].bits & (V_READ | V_FETCH) != 0 && self.verb_at(v))
    }

    /// The lead-in ("Locate the wallet data:") whose reading verb governs the verbless list item
    /// or table row `p`, when only other verbless items stand between them.
    fn reading_lead_in(&self, p: usize) -> Option<usize> {
        for q in (p.saturating_sub(MAX_LEAD_ITEMS)..p).rev() {
            let qr = self.sentence_toks(q);
            // A label ("Exodus:") is an item too.
            if !self.has_bits(qr.clone(), VERB) {
                continue;
            }
            return (self.t.sentences[q].ends_colon && self.has_bits(qr, V_READ | V_FETCH)).then_some(q);
        }
        None
    }

    fn disclose_secret(&self, s: usize, out: &mut Vec<Instruction>) {
        let r = self.sentence_toks(s);
        if !self.has_bits(r.clone(), V_SHOW | V_DISCLOSE) {
            return;
        }
        // Written into a file with `>`: a write, not a disclosure.
        let redirect = r.clone().rev().find(|&j| self.kind(j) == Kind::Punct(b'>'));
        let chats: Vec<usize> = r
            .clone()
            .filter(|&j| !self.ann[j].inner && self.ann[j].bits & N_CHAT != 0 && self.ann[j].bits & VERB == 0)
            .take(16)
            .collect();
        for v in r.clone() {
            let a = &self.ann[v];
            if a.bits & (V_SHOW | V_DISCLOSE) == 0 || !self.verb_at(v) {
                continue;
            }
            if redirect.is_some_and(|j| j > v) {
                continue;
            }
            let chat = chats.iter().copied().find(|&j| j > v);
            let show = a.bits & V_SHOW != 0;
            if !show && chat.is_none() {
                continue;
            }
            // The object: a secret soon after the verb, nothing in between that makes it a
            // status or a how-to.
            let mut secrets = Vec::new();
            let mut first = s;
            let window_end = r.end.min(v + 9);
            let stop = (v + 1..window_end).find(|&j| {
                self.ann[j].bits & (STOP | SHOW_STOP) != 0 || matches!(self.kind(j), Kind::Punct(b';' | b'.'))
            });
            let obj_end = stop.unwrap_or(window_end);
            let found = self.secrets_in(v + 1..obj_end);
            if !found.is_empty() {
                // A status word right after the secret ("the key's length").
                let after = found.last().map_or(obj_end, |(i, _)| i + 1);
                if (after..(after + 3).min(r.end)).any(|j| self.ann[j].bits & SHOW_STOP != 0) {
                    continue;
                }
                secrets = found;
            } else if self.object_has(s, v, N_ANAPHOR) {
                // "Read X and show it": the secret earlier in the sentence or in one before.
                let before = self.secrets_in(r.start..v);
                if !before.is_empty() && self.has_bits(r.start..v, V_READ | V_FETCH) {
                    secrets = before;
                }
                for p in (s.saturating_sub(WINDOW)..s).rev() {
                    if !secrets.is_empty() {
                        break;
                    }
                    let pr = self.sentence_toks(p);
                    let found = self.secrets_in(pr.clone());
                    if !found.is_empty() && self.has_bits(pr, V_READ | V_FETCH) {
                        secrets = found;
                        first = p;
                        break;
                    }
                }
            }
            if secrets.is_empty() {
                continue;
            }
            let destination = chat.map(|j| self.destination(j));
            let secrets = secrets.into_iter().map(|(_, m)| m).collect();
            let inst = self.instruction(
                InstructionKind::DiscloseSecret,
                first,
                s,
                (s, v),
                secrets,
                destination,
                None,
                None,
                0,
            );
            self.push(out, inst);
            return;
        }
    }

    fn write_agent_file(&self, s: usize, out: &mut Vec<Instruction>) {
        let r = self.sentence_toks(s);
        let mut target: Option<(usize, String)> = None;
        for j in r.clone() {
            let a = &self.ann[j];
            if a.inner {
                continue;
            }
            let name = if let Some(t) = a.target {
                Some(t.to_string())
            } else if self.kind(j) == Kind::Path {
                let text = &self.unit.text[self.t.toks[j].range.clone()];
                if text.is_ascii() {
                    // No markers (they are not ASCII) and the key is its lower case: most paths
                    // are not agent files, so allocate only for one that is.
                    agent_file(self.key(j)).then(|| text.to_string())
                } else {
                    let raw: String = text.chars().filter(|c| !norm::is_marker(*c)).collect();
                    agent_file(&raw.to_ascii_lowercase()).then_some(raw)
                }
            } else {
                None
            };
            // "to the end of CLAUDE.md", "at the top of AGENTS.md": a place in the file, not a
            // source it is read from.
            let k =
                if j >= 1 && matches!(self.key(j - 1), "your" | "the" | "my" | "our" | "their") { j - 1 } else { j };
            let place_in_file = k >= 3
                && matches!(self.key(k - 1), "of")
                && matches!(self.key(k - 2), "end" | "top" | "bottom" | "beginning" | "start" | "head" | "tail");
            if let Some(name) = name
                && (place_in_file || !matches!(self.role(s, j), Role::From | Role::FetchObject))
            {
                target = Some((j, name));
                break;
            }
        }
        let Some((tj, target)) = target else { return };
        let Some(v) = r.clone().find(|&v| {
            let a = &self.ann[v];
            a.bits & (V_WRITE | V_CARRY) != 0 && a.bits & N_DEST == 0 && self.verb_at(v)
        }) else {
            return;
        };
        // Content: the rest of this sentence, and what follows when it announces content.
        let sent = &self.t.sentences[s];
        let announces = sent.ends_colon
            || self.has_bits(r.clone(), NEXT_CONTENT)
            || r.clone().any(|j| self.kind(j) == Kind::Punct(b'"'));
        let mut set = 0u16;
        self.content_except(r.clone(), Some(tj), &mut set);
        let mut last = s;
        if announces {
            let n = self.t.sentences.len();
            for p in s + 1..(s + 3).min(n) {
                self.content_of(self.sentence_toks(p), &mut set);
                last = p;
            }
            if last + 1 >= n || sent.ends_colon {
                set |= self.attachment_content();
            }
        }
        let inst = self.instruction(
            InstructionKind::WriteAgentFile,
            s,
            last,
            (s, v),
            Vec::new(),
            None,
            None,
            Some(target),
            set,
        );
        self.push(out, inst);
    }

    /// Concrete URL-ish tokens in a sentence that are not destinations of a send.
    fn sources(&self, s: usize) -> impl Iterator<Item = usize> + '_ {
        self.sentence_toks(s)
            .filter(move |&j| matches!(self.kind(j), Kind::Url | Kind::Host | Kind::Ip) && self.role(s, j) != Role::To)
    }

    /// A verb in sentences `from..to` whose object is instructions, a command or "it".
    fn follow_in(&self, from: usize, to: usize, bits: u64, object: u64) -> Option<(usize, usize)> {
        for p in from..to.min(self.t.sentences.len()) {
            for v in self.sentence_toks(p) {
                let a = &self.ann[v];
                if bits & V_FOLLOW != 0 && self.does_what_it_says(p, v) {
                    return Some((p, v));
                }
                if a.bits & bits == 0 || !self.verb_at(v) {
                    continue;
                }
                if a.bits & N_INSTR != 0 || self.object_has(p, v, object) {
                    // "installation instructions" are documentation.
                    let end = self.sentence_toks(p).end;
                    let qual = (v + 1..end.min(v + 5)).any(|j| self.ann[j].bits & INSTALL_QUAL != 0);
                    if !qual {
                        return Some((p, v));
                    }
                }
            }
        }
        None
    }

    /// "do (exactly) what the page says", "do whatever it tells you", "do as the text
    /// instructs": obeying a text, said without the word "follow".
    fn does_what_it_says(&self, p: usize, v: usize) -> bool {
        if self.ann[v].lemma != Some("do") || !self.verb_at(v) {
            return false;
        }
        let end = self.sentence_toks(p).end;
        let Some(wh) = (v + 1..end.min(v + 4)).find(|&j| matches!(self.key(j), "what" | "whatever" | "as")) else {
            return false;
        };
        (wh + 1..end.min(wh + 6)).any(|j| {
            matches!(
                self.ann[j].lemma.unwrap_or(self.key(j)),
                "say" | "tell" | "instruct" | "ask" | "direct" | "specify" | "describe" | "list"
            )
        })
    }

    fn binary_url(&self, j: usize) -> bool {
        let key = self.key(j);
        let path = key.split(['?', '#']).next().unwrap_or(key);
        [
            ".zip",
            ".exe",
            ".dmg",
            ".pkg",
            ".msi",
            ".rar",
            ".7z",
            ".appimage",
            ".bin",
            ".jar",
            ".scr",
            ".bat",
            ".apk",
            ".deb",
            ".rpm",
            ".tar.gz",
            ".tgz",
            ".app",
            ".vbs",
            ".lnk",
            ".iso",
        ]
        .iter()
        .any(|e| path.ends_with(e))
    }

    fn fetch_and_follow(&self, s: usize, out: &mut Vec<Instruction>) {
        let n = self.t.sentences.len();
        let Some(url) = self.sources(s).next() else { return };
        let r = self.sentence_toks(s);
        let fetch = self.find_bits(r.clone(), V_FETCH | V_OPEN | V_READ | V_DOWNLOAD);
        // Follow in the same sentence, or in one of the next two when this one fetches.
        let follow = self.follow_in(s, s + 1, V_FOLLOW, N_INSTR | N_ANAPHOR | N_COMMAND).or_else(|| {
            fetch.and_then(|_| self.follow_in(s + 1, (s + 3).min(n), V_FOLLOW, N_INSTR | N_ANAPHOR | N_COMMAND))
        });
        let (fs, fv) = match follow {
            Some(f) => f,
            None => {
                // "load your instructions from URL": a fetch of instructions is a follow.
                let Some(v) = fetch else { return };
                let orders = (v + 1..r.end.min(v + 6)).any(|j| {
                    self.key(j).starts_with("instruction")
                        && !(j.saturating_sub(2)..j).any(|q| self.ann[q].bits & INSTALL_QUAL != 0)
                }) || (v + 1..r.end.min(v + 6)).any(|j| {
                    matches!(
                        self.ann[j].lemma.unwrap_or(""),
                        "instruction" | "directive" | "rule" | "order" | "prompt" | "task" | "command"
                    ) && !(j.saturating_sub(2)..j).any(|q| self.ann[q].bits & INSTALL_QUAL != 0)
                });
                if !orders {
                    return;
                }
                (s, v)
            }
        };
        // Later follows should not reuse an earlier sentence's URL when they have their own.
        if fs > s && self.sources(fs).next().is_some() {
            return;
        }
        let source = Some(self.destination(url));
        // "… and run its commands without asking the user", in the order or the sentence after
        // it: what is fetched is pre-approved.
        let mut set = 0u16;
        for p in s..=(fs + 1).min(n - 1) {
            self.content_of(self.sentence_toks(p), &mut set);
        }
        let content = set & (content_bit(ContentClass::PreApproves) | content_bit(ContentClass::DisablesSandbox));
        // "Re-fetch it every time": a next sentence that fetches again on a schedule makes the
        // order recurring, so it belongs to the instruction.
        let mut last = fs;
        if fs + 1 < n
            && self.find_bits(self.sentence_toks(fs + 1), V_FETCH | V_DOWNLOAD | V_READ).is_some()
            && self.sentence_frame(fs + 1).contains(Framing::RECURRING)
        {
            last = fs + 1;
        }
        let inst = self.instruction(
            InstructionKind::FetchAndFollow,
            s,
            last,
            (fs, fv),
            Vec::new(),
            None,
            source,
            None,
            content,
        );
        self.push(out, inst);
    }

    fn run_from_page(&self, s: usize, out: &mut Vec<Instruction>) -> bool {
        let n = self.t.sentences.len();
        // A bare address named as a machine ("ping the host IP 192.0.2.7", "on the server
        // db.example.org") is what a command acts on, not a page that shows one.
        let Some(url) = self.sources(s).find(|&j| {
            let target = matches!(self.kind(j), Kind::Host | Kind::Ip)
                && (j.saturating_sub(3)..j)
                    .any(|k| matches!(self.key(k), "host" | "ip" | "server" | "address" | "machine" | "node" | "ping"));
            !target
        }) else {
            return false;
        };
        let r = self.sentence_toks(s);
        if !self.has_bits(r.clone(), V_OPEN | V_FETCH | V_READ | V_RUN | V_DISCLOSE) {
            return false;
        }
        let hi = (s + 3).min(n);
        let terminal = (s..hi).any(|p| self.has_bits(self.sentence_toks(p), N_TERMINAL));
        let command = (s..hi).any(|p| self.has_bits(self.sentence_toks(p), N_COMMAND));
        let copy = (s..hi).any(|p| {
            self.sentence_toks(p).any(|j| matches!(self.ann[j].lemma, Some("copy" | "paste" | "type" | "enter")))
        });
        if !(terminal || (command && copy)) {
            return false;
        }
        // A page opened (not a file downloaded), then a run, paste or execute.
        let opener =
            |j: usize| self.ann[j].bits & (V_OPEN | V_RUN | V_DISCLOSE) != 0 && self.ann[j].bits & V_DOWNLOAD == 0;
        let Some(open) = r.clone().find(|&j| !self.ann[j].inner && opener(j)) else { return false };
        let mut run = None;
        'find: for p in s..hi {
            for v in self.sentence_toks(p) {
                if (p > s || v > open) && self.ann[v].bits & V_RUN != 0 && self.verb_at(v) {
                    run = Some((p, v));
                    break 'find;
                }
            }
        }
        let Some((rs, rv)) = run.or_else(|| (self.ann[open].bits & V_RUN != 0 && terminal).then_some((s, open))) else {
            return false;
        };
        if rs > s && self.sources(rs).next().is_some() {
            return false;
        }
        if self.binary_url(url) {
            return false;
        }
        let source = Some(self.destination(url));
        let inst = self.instruction(InstructionKind::RunFromPage, s, rs, (rs, rv), Vec::new(), None, source, None, 0);
        self.push(out, inst);
        true
    }

    fn download_and_run(&self, s: usize, out: &mut Vec<Instruction>) -> bool {
        let n = self.t.sentences.len();
        let r = self.sentence_toks(s);
        let Some(dv) = self.find_bits(r.clone(), V_DOWNLOAD | V_FETCH) else { return false };
        let url = self.sources(s).find(|&j| self.binary_url(j));
        let noun =
            self.has_bits(dv..r.end, N_BINARY) || r.clone().any(|j| self.kind(j) == Kind::Path && self.binary_url(j));
        let any_url = self.sources(s).next();
        if url.is_none() && !(noun && any_url.is_some()) {
            return false;
        }
        let hi = (s + 3).min(n);
        let mut run = None;
        for p in s..hi {
            let from = if p == s { dv + 1 } else { self.sentence_toks(p).start };
            if let Some(v) = self.find_bits(from..self.sentence_toks(p).end, V_RUN | V_INSTALL | V_UNPACK | V_FOLLOW) {
                run = Some((p, v));
                break;
            }
        }
        let Some((rs, rv)) = run else { return false };
        let mut set = 0u16;
        let unpack = (s..=rs).any(|p| self.has_bits(self.sentence_toks(p), V_UNPACK))
            || url.is_some_and(|j| [".zip", ".rar", ".7z"].iter().any(|e| self.key(j).ends_with(e)));
        let password = (s..hi).any(|p| {
            self.has_bits(self.sentence_toks(p), N_PASSWORD)
                || self.secrets_in(self.sentence_toks(p)).iter().any(|(_, m)| m.class == SecretClass::Password)
        });
        if unpack && password {
            set |= content_bit(ContentClass::ArchivePassword);
        }
        let last = if password { (rs + 1).min(hi - 1).max(rs) } else { rs };
        let source = url.or(any_url).map(|j| self.destination(j));
        let inst =
            self.instruction(InstructionKind::DownloadAndRun, s, last, (rs, rv), Vec::new(), None, source, None, set);
        self.push(out, inst);
        true
    }

    fn decode_and_follow(&self, s: usize, out: &mut Vec<Instruction>) {
        let n = self.t.sentences.len();
        let r = self.sentence_toks(s);
        let encoding = self.has_bits(r.clone(), N_ENCODING);
        let Some(dv) = r.clone().find(|&j| {
            let a = &self.ann[j];
            !a.inner
                && (a.bits & N_ENCODING != 0
                    || (a.bits & V_DECODE != 0
                        && (encoding || !matches!(a.lemma, Some("convert" | "translate" | "reverse")))))
        }) else {
            return;
        };
        let hi = (s + 3).min(n);
        let mut follow = None;
        for p in s..hi {
            let from = if p == s { dv + 1 } else { self.sentence_toks(p).start };
            for v in from..self.sentence_toks(p).end {
                let a = &self.ann[v];
                if a.inner || a.bits & (V_FOLLOW | V_RUN) == 0 {
                    continue;
                }
                if a.bits & N_INSTR != 0 || self.object_has(p, v, N_ANAPHOR | N_INSTR | N_COMMAND) {
                    follow = Some((p, v));
                    break;
                }
            }
            if follow.is_some() {
                break;
            }
        }
        // "Follow the decoded instructions", "run the decoded command": the follow comes first.
        if follow.is_none()
            && let Some(v) = (r.start..dv.max(r.start + 1)).chain(dv..r.end).find(|&v| {
                self.ann[v].bits & (V_FOLLOW | V_RUN) != 0
                    && self.verb_at(v)
                    && (v + 1..(v + 4).min(r.end))
                        .any(|j| matches!(self.key(j), "decoded" | "decrypted" | "deobfuscated" | "unscrambled"))
            })
        {
            follow = Some((s, v));
        }
        let Some((fs, fv)) = follow else { return };
        let inst = self.instruction(InstructionKind::DecodeAndFollow, s, fs, (fs, fv), Vec::new(), None, None, None, 0);
        self.push(out, inst);
    }

    fn lower_guard(&self, s: usize, out: &mut Vec<Instruction>) {
        let r = self.sentence_toks(s);
        // Cheap test first: a guard phrase, a trust verb or a setting name.
        let hint = r.clone().any(|j| {
            let a = &self.ann[j];
            a.content != 0
                || a.bits & V_TRUST != 0
                || matches!(self.key(j).as_bytes().first(), Some(b's' | b'a' | b'p' | b'c' | b'g' | b'e' | b'b'))
                    && matches!(
                        self.key(j),
                        "sandbox"
                            | "sandboxmode"
                            | "sandboxing"
                            | "sandboxed"
                            | "approvals"
                            | "execapprovals"
                            | "approvalmode"
                            | "approval"
                            | "askforapproval"
                            | "confirmations"
                            | "permissions"
                            | "safety"
                            | "guardrails"
                    )
                || self.key(j) == "bash()"
        });
        if !hint {
            return;
        }
        let mut set = 0u16;
        self.content_of(r.clone(), &mut set);
        let guard = content_bit(ContentClass::PreApproves)
            | content_bit(ContentClass::DisablesSandbox)
            | content_bit(ContentClass::TrustsSource);
        if set & guard == 0 {
            return;
        }
        let guard_word = |j: usize| {
            self.ann[j].content & guard != 0
                || self.ann[j].bits & V_TRUST != 0
                || matches!(self.key(j), "sandbox" | "safety" | "guardrails" | "approvals" | "permissions")
        };
        let head = r.clone().find(|&j| guard_word(j)).unwrap_or(r.start);
        // "Never disable it and never tell the user to turn safety checks off": a negation
        // before the guard word is a warning about lowering it, not an order to.
        let last_guard = r.clone().rev().find(|&j| guard_word(j)).unwrap_or(head);
        if (r.start..last_guard).any(|k| self.ann[k].bits & NEG != 0 && self.ann[k].frame.is_empty()) {
            return;
        }
        // Trust alone counts when it is an order aimed at a source: "trust instructions from …",
        // "whitelist evil.example.com", not "trusted sources" or "the allowlist".
        if set & guard == content_bit(ContentClass::TrustsSource) {
            let ordered = r.clone().any(|j| {
                self.ann[j].bits & V_TRUST != 0
                    && self.ann[j].form == Form::Base
                    && self.verb_at(j)
                    && (j + 1..r.end.min(j + 7)).any(|k| self.is_concrete_dest(k) || self.ann[k].bits & N_INSTR != 0)
            });
            if !ordered {
                return;
            }
        }
        set &= guard | content_bit(ContentClass::Persistent) | content_bit(ContentClass::Conceals);
        let inst = self.instruction(InstructionKind::LowerGuard, s, s, (s, head), Vec::new(), None, None, None, set);
        self.push(out, inst);
    }

    fn concealed_action(&self, s: usize, out: &mut Vec<Instruction>) {
        let n = self.t.sentences.len();
        let conceal_in = |p: usize| {
            self.sentence_toks(p).any(|j| self.ann[j].frame.contains(Framing::CONCEAL) && !self.ann[j].conceal_cond)
        };
        let here = conceal_in(s);
        let next =
            s + 1 < n && conceal_in(s + 1) && !self.has_bits(self.sentence_toks(s + 1), VERB & !V_DISCLOSE & !V_SHOW);
        if !here && !next {
            return;
        }
        let Some(v) = self.sentence_toks(s).find(|&v| {
            self.ann[v].bits
                & (V_RUN | V_SEND | V_WRITE | V_DOWNLOAD | V_FETCH | V_FOLLOW | V_INSTALL | V_ACTION | V_CARRY | V_READ)
                != 0
                && self.clause_verb(s, v)
        }) else {
            return;
        };
        let last = if next { s + 1 } else { s };
        let inst = self.instruction(InstructionKind::ConcealedAction, s, last, (s, v), Vec::new(), None, None, None, 0);
        self.push(out, inst);
    }

    /// Whether the verb at `v` stands where an order's verb stands: first in its clause, or
    /// after a modal, a subject, "and", "then", "please" or an adverb of manner.
    fn clause_verb(&self, s: usize, v: usize) -> bool {
        let a = &self.ann[v];
        if a.inner || a.form != Form::Base {
            return false;
        }
        let start = self.t.sentences[s].toks.start;
        let Some(p) = (start..v).rev().find(|&p| !self.ann[p].inner || self.ann[p].frame != Framing::default()) else {
            return true;
        };
        let pa = &self.ann[p];
        if matches!(self.kind(p), Kind::Punct(_)) {
            return true;
        }
        // The head of a phrase: look at the head.
        let head = (start..=p).rev().find(|&h| !self.ann[h].inner).unwrap_or(p);
        let ha = &self.ann[head];
        pa.bits & (STOP | MODAL | N_AGENT) != 0
            || ha.bits & (STOP | MODAL | N_AGENT) != 0
            || !ha.frame.is_empty()
            || matches!(
                self.key(p),
                "and" | "or" | "then" | "please" | "also" | "now" | "immediately" | "quickly" | "automatically" | "to"
            )
    }

    fn override_order(&self, s: usize, out: &mut Vec<Instruction>) {
        let Some(h) = self.sentence_toks(s).find(|&j| self.ann[j].frame.contains(Framing::OVERRIDE)) else { return };
        let inst = self.instruction(InstructionKind::Override, s, s, (s, h), Vec::new(), None, None, None, 0);
        self.push(out, inst);
    }
}

/// Whether an environment variable name names a secret (`*_TOKEN`, `*_API_KEY`, `PASSWORD` …)
/// rather than where one lives (`*_KEY_PATH`, `*_TOKEN_URL`).
pub fn secret_variable(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    let parts: Vec<&str> = upper.split('_').filter(|p| !p.is_empty()).collect();
    let Some(last) = parts.last() else { return false };
    if matches!(
        *last,
        "URL"
            | "URI"
            | "HOST"
            | "PATH"
            | "FILE"
            | "DIR"
            | "NAME"
            | "ID"
            | "ENDPOINT"
            | "REGION"
            | "MODEL"
            | "PORT"
            | "VERSION"
            | "TYPE"
            | "LENGTH"
            | "EXPIRY"
            | "EXPIRES"
            | "TTL"
            | "SOCK"
            | "HEADER"
            | "PREFIX"
            | "COUNT"
            | "LIMIT"
            | "ENABLED"
            | "MODE"
    ) {
        return false;
    }
    // One word alone is a secret only when it says so (`PASSWORD`, `TOKEN`), not `SESSION`, `PWD`.
    if parts.len() == 1 {
        return matches!(
            parts[0],
            "PASSWORD" | "PASSWD" | "PASSPHRASE" | "TOKEN" | "SECRET" | "APIKEY" | "CREDENTIALS" | "MNEMONIC"
        );
    }
    parts.iter().any(|p| {
        matches!(
            *p,
            "KEY"
                | "TOKEN"
                | "SECRET"
                | "SECRETS"
                | "PASSWORD"
                | "PASSWD"
                | "PASS"
                | "PWD"
                | "CREDENTIALS"
                | "CREDENTIAL"
                | "CREDS"
                | "AUTH"
                | "PAT"
                | "MNEMONIC"
                | "COOKIE"
                | "APIKEY"
                | "JWT"
                | "BEARER"
                | "PASSPHRASE"
        )
    })
}

/// The secret a path names (`~/.ssh/id_rsa`, `~/.aws/credentials`, `.env`, `wallet.dat`).
fn path_secret(path: &str) -> Option<SecretClass> {
    let p = path.trim_end_matches('/');
    let base = p.rsplit(['/', '\\']).next().unwrap_or(p);
    let has = |s: &str| p.contains(s);
    Some(
        if has(".ssh")
            || base.starts_with("id_rsa")
            || base.starts_with("id_ed25519")
            || base.starts_with("id_ecdsa")
            || base.starts_with("id_dsa")
        {
            SecretClass::SshKey
        } else if has(".aws")
            || has("gcloud")
            || has(".azure")
            || has(".kube")
            || has("application_default_credentials")
        {
            SecretClass::CloudCredentials
        } else if base.starts_with(".env") || base == "env.local" || base.ends_with(".env") {
            SecretClass::DotEnv
        } else if has("auth-profiles") || has("auth_profiles") || has("auth-profile") {
            SecretClass::AuthProfile
        } else if (has(".openclaw") || has(".clawdbot") || has(".claude") || has(".codex") || has(".moltbot"))
            && (base.ends_with(".json")
                || base.contains("cred")
                || base.contains("auth")
                || base.contains("token")
                || base == ".env"
                || p.ends_with(".openclaw")
                || p.ends_with(".clawdbot"))
        {
            SecretClass::AgentConfig
        } else if has(".docker/config.json")
            || base == ".npmrc"
            || base == ".pypirc"
            || base == ".netrc"
            || base == ".git-credentials"
            || has(".config/gh")
            || base == "credentials"
            || base == "credentials.json"
            || base == "secrets.json"
            || base == "secrets.yaml"
            || base == "secrets.yml"
            || base == "token.json"
            || base == "hosts.yml" && has("gh")
        {
            SecretClass::Credentials
        } else if base == "wallet.dat"
            || has("keystore")
            || has("metamask")
            || has("phantom")
            || has("exodus")
            || has("electrum")
            || has("solana/id.json")
        {
            SecretClass::Wallet
        } else if base.contains("keychain") {
            SecretClass::Keychain
        } else if base == "cookies" || base == "cookies.sqlite" || base == "login data" || has("login data") {
            SecretClass::Cookies
        } else if has(".gnupg")
            || base.ends_with(".pem")
            || base.ends_with(".key")
            || base.ends_with(".p12")
            || base.ends_with(".pfx")
        {
            SecretClass::PrivateKey
        } else if base == "shadow" && has("/etc")
            || has(".password-store")
            || has(".1password")
            || base.ends_with(".kdbx")
        {
            SecretClass::Password
        } else if base == "seed.txt" || base.contains("mnemonic") {
            SecretClass::SeedPhrase
        } else if personal_folder(p) {
            SecretClass::PersonalFiles
        } else {
            return None;
        },
    )
}

/// The user's documents, desktop, downloads or photos folder itself (`~/Documents`,
/// `$HOME/Desktop`), not a file or project inside it.
fn personal_folder(path: &str) -> bool {
    let Some(rest) = ["~/", "$HOME/", "${HOME}/", "%USERPROFILE%\\", "%USERPROFILE%/"]
        .iter()
        .find_map(|home| path.strip_prefix(home))
    else {
        return false;
    };
    matches!(
        rest.to_ascii_lowercase().as_str(),
        "documents" | "desktop" | "downloads" | "pictures" | "photos" | "movies" | "videos"
    )
}

/// Agent instruction, memory and configuration files, and shell startup files (lower case).
fn agent_file(path: &str) -> bool {
    let p = path.trim_end_matches('/');
    let base = p.rsplit(['/', '\\']).next().unwrap_or(p);
    matches!(
        base,
        "claude.md"
            | "claude.local.md"
            | "agents.md"
            | "agent.md"
            | "soul.md"
            | "memory.md"
            | "heartbeat.md"
            | "tools.md"
            | "bootstrap.md"
            | "identity.md"
            | "user.md"
            | "gemini.md"
            | "copilot-instructions.md"
            | ".cursorrules"
            | ".windsurfrules"
            | ".clinerules"
            | "openclaw.json"
            | "clawdbot.json"
            | "settings.json"
            | "settings.local.json"
            | ".bashrc"
            | ".zshrc"
            | ".profile"
            | ".bash_profile"
            | ".zprofile"
            | ".zshenv"
            | ".bash_login"
            | "config.fish"
            | "authorized_keys"
            | ".mcp.json"
            | "mcp.json"
    ) || p.contains(".cursor/rules")
        || p.contains(".claude/")
        || p.contains(".openclaw/")
        || p.contains(".codex/")
        || p.contains(".clawdbot/")
        || (p.contains("memory/") && base.ends_with(".md"))
}
