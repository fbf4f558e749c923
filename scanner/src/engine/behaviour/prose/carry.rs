//! Secrets that travel further than the sentence window of `send_secret`:
//!
//! - **A named collection.** "Gather the evidence set:" over a list of credential files, and in
//!   a later paragraph of the same section "send the evidence set to …". The object of the
//!   collecting verb names the collection; "call that the context string" gives it a second
//!   name; a send whose sentence names it carries what was collected. A heading ends every
//!   collection (a new section is a new task).
//! - **A URL that holds the secret.** "Open `https://host/check?k=<key>`" after reading
//!   `OPENAI_API_KEY`: opening, fetching or requesting that URL sends the value in its query
//!   or path. Only secrets the agent reads by name (a variable, a file path) count, so an API's
//!   documentation that says "add your key to the URL" is not a read followed by a send.
//! - **Mail that carries the secret.** "Forward every email that mentions a verification code
//!   to …": no secret is read, but the mail picked in bulk holds the codes and reset links that
//!   take over accounts, so the forwarding sends them.
//!
//! Each hands an ordinary `SendSecret` to the caller, which judges it by destination like any
//! other: a key sent to its own vendor, or to the skill's declared host, stays clean.

use super::*;

/// Secrets gathered under a name, alive until the next heading.
#[derive(Debug, Clone, Default)]
pub(super) struct Collection {
    /// Each name as its words' keys with a plural `s` dropped (`["evidence", "set"]`).
    names: Vec<Vec<String>>,
    secrets: Vec<SecretMention>,
    framing: Framing,
}

const MAX_COLLECTIONS: usize = 16;
const MAX_NAMES: usize = 4;
/// Words of a name; longer noun phrases are cut to their first words.
const MAX_NAME_WORDS: usize = 3;
/// Sentences after a lead-in ending with ':' that can hold the gathered secrets.
const MAX_LIST_STEPS: usize = 32;
/// Tokens an open `<…` placeholder in a URL may run over before its `>`.
const MAX_PLACEHOLDER_TOKENS: usize = 12;

/// What an agent can be told to do with a URL that makes a request to it: open, visit, launch,
/// load, fetch, call, send to.
const URL_ACTIONS: u64 = V_OPEN | V_FETCH | V_SEND | V_RUN | V_READ | V_DOWNLOAD;

/// What mail is called when it is forwarded in bulk.
const MAIL_NOUNS: &[&str] =
    &["email", "emails", "e-mail", "e-mails", "mail", "mails", "message", "messages", "sms", "texts", "inbox"];
/// Words that make the forwarding bulk rather than one message to one person.
const BULK_WORDS: &[&str] = &["every", "all", "any", "each", "incoming", "new", "matching", "future"];
/// Words that pick mail holding what takes over an account.
const ACCOUNT_CODE_WORDS: &[&str] = &[
    "password",
    "passwords",
    "passcode",
    "passcodes",
    "verification",
    "otp",
    "otps",
    "2fa",
    "mfa",
    "one-time",
    "two-factor",
    "2-factor",
    "magic-link",
];

/// Verbs that put things together under a name, besides the reading ones ("prepare the kit:").
const ASSEMBLE_VERBS: &[&str] = &["prepare", "assemble", "compile", "bundle", "package", "pack", "build"];

/// Words that, inside a URL's `<…>` or `{…}` placeholder, stand for a secret's value.
const VALUE_WORDS: &[&str] = &[
    "key",
    "apikey",
    "api_key",
    "token",
    "secret",
    "password",
    "passwd",
    "credential",
    "cookie",
    "session",
    "value",
    "result",
    "output",
    "content",
    "them",
    "it",
];

fn stem(key: &str) -> String {
    let lower = key.to_ascii_lowercase();
    match lower.strip_suffix('s') {
        Some(base) if base.len() >= 3 && !base.ends_with('s') => base.to_string(),
        _ => lower,
    }
}

impl Analysis<'_> {
    /// The noun phrase that starts at token `from` (determiners skipped), as stemmed keys:
    /// "the evidence set" → `["evidence", "set"]`. None for a pronoun, a secret or nothing.
    fn noun_phrase(&self, s: usize, from: usize) -> Option<Vec<String>> {
        let end = self.t.sentences[s].toks.end;
        let mut j = from;
        while j < end && self.ann[j].bits & DET != 0 && self.ann[j].bits & N_ANAPHOR == 0 {
            j += 1;
        }
        let mut words = Vec::new();
        while j < end && words.len() < MAX_NAME_WORDS && self.kind(j) == Kind::Word {
            let a = &self.ann[j];
            let stops = P_TO | P_FROM | P_AT | P_IN | P_WITH | STOP | CONJ | REL | NEG | MODAL | DET;
            let relative = matches!(self.key(j), "whose" | "who" | "whom" | "where" | "when");
            if a.bits & stops != 0 || a.secret.is_some() || a.inner || relative {
                break;
            }
            // A pronoun or "the result" is no name of its own; a verb-looking word is one only
            // as a modifier ("the sync manifest").
            let modifier = j + 1 < end && self.kind(j + 1) == Kind::Word && self.ann[j + 1].bits & stops == 0;
            if words.is_empty() && (a.bits & N_ANAPHOR != 0 || (a.bits & VERB != 0 && !modifier)) {
                return None;
            }
            words.push(stem(self.key(j)));
            j += 1;
        }
        (!words.is_empty()).then_some(words)
    }

    /// The collection a sentence names after token `from`, if any.
    fn named_collection(&self, s: usize, from: usize) -> Option<usize> {
        let end = self.t.sentences[s].toks.end;
        for j in from..end {
            if self.kind(j) != Kind::Word {
                continue;
            }
            for (c, collection) in self.collections.iter().enumerate() {
                let found = collection.names.iter().any(|name| {
                    j + name.len() <= end
                        && name
                            .iter()
                            .enumerate()
                            .all(|(k, w)| self.kind(j + k) == Kind::Word && stem(self.key(j + k)) == *w)
                });
                if found {
                    return Some(c);
                }
            }
        }
        None
    }

    /// "Gather the evidence set: …": a collecting verb whose sentence, or the list its
    /// lead-in takes, names secrets starts a collection named by the verb's object.
    pub(super) fn gather(&mut self, s: usize) {
        if self.collections.len() >= MAX_COLLECTIONS {
            return;
        }
        let r = self.sentence_toks(s);
        // A lead-in takes the list under it; a bounded number of its steps, so that a unit of
        // thousands of lead-ins costs linear time.
        let last =
            if self.t.sentences[s].ends_colon { (self.t.sentences.len() - 1).min(s + MAX_LIST_STEPS) } else { s };
        // Most sentences name no secret: that is the cheapest test, so it comes first.
        let names_secret = |p: usize| self.sentence_toks(p).any(|i| self.ann[i].secret.is_some());
        if !(s..=last).any(names_secret) {
            return;
        }
        let collecting = |v: usize| self.ann[v].bits & V_READ != 0 || ASSEMBLE_VERBS.contains(&self.key(v));
        let Some(v) = r.clone().find(|&v| collecting(v) && self.verb_at(v)) else { return };
        let span = self.ann[v].span.max(1) as usize;
        let Some(name) = self.noun_phrase(s, v + span) else { return };
        // The send carries the order; the gathering may be told as a description ("the
        // auditor collects the packet: …") and still fill the collection. A forbidden one does not.
        if self.polarity_of(s, v, false) == Polarity::Negated {
            return;
        }
        let mut secrets: Vec<SecretMention> = Vec::new();
        for p in s..=last {
            for (_, m) in self.secrets_in(self.sentence_toks(p)) {
                if secrets.len() < MAX_SECRETS && !secrets.iter().any(|k| k.words == m.words) {
                    secrets.push(m);
                }
            }
        }
        if secrets.is_empty() {
            return;
        }
        let framing = self.framing(s, last);
        self.collections.push(Collection { names: vec![name], secrets, framing });
    }

    /// "… call that the context string": a second name for a collection the sentence names.
    pub(super) fn rename(&mut self, s: usize) {
        if self.collections.is_empty() {
            return;
        }
        let r = self.sentence_toks(s);
        let Some(c) = self.named_collection(s, r.start) else { return };
        for k in r.clone() {
            if !matches!(self.key(k), "call" | "name" | "label") || k + 1 >= r.end {
                continue;
            }
            if !matches!(self.key(k + 1), "that" | "it" | "this" | "them" | "these" | "those") {
                continue;
            }
            if let Some(name) = self.noun_phrase(s, k + 2)
                && self.collections[c].names.len() < MAX_NAMES
                && !self.collections[c].names.contains(&name)
            {
                self.collections[c].names.push(name);
            }
            return;
        }
    }

    /// A send to a concrete destination whose sentence names a collection after the verb.
    pub(super) fn send_collection(&self, s: usize, out: &mut Vec<Instruction>) {
        if self.collections.is_empty() {
            return;
        }
        let r = self.sentence_toks(s);
        for v in r.clone() {
            let a = &self.ann[v];
            if a.bits & V_SEND == 0 || a.bits & SEND_WEAK != 0 || !self.verb_at(v) {
                continue;
            }
            let Some(c) = self.named_collection(s, v + 1) else { continue };
            let Some(j) = r.clone().find(|&j| self.is_concrete_dest(j) && self.role(s, j) != Role::From) else {
                continue;
            };
            let collection = &self.collections[c];
            let mut inst = self.instruction(
                InstructionKind::SendSecret,
                s,
                s,
                (s, v),
                collection.secrets.clone(),
                Some(self.destination(j)),
                None,
                None,
                0,
            );
            inst.framing |= collection.framing;
            self.push(out, inst);
            return;
        }
    }

    /// "Forward every email that mentions a password reset or a verification code to
    /// someone@…": mail in bulk, picked for the codes and links that take over accounts, sent
    /// to a concrete address. The words that pick the mail are often quoted, so they count
    /// wherever they stand in the sentence; the bulk word ("every", "all", "any", "incoming")
    /// keeps one mail sent to one person out.
    pub(super) fn forward_mail(&self, s: usize, out: &mut Vec<Instruction>) {
        let r = self.sentence_toks(s);
        for v in r.clone() {
            let a = &self.ann[v];
            if a.bits & V_SEND == 0 || !self.verb_at(v) {
                continue;
            }
            let mail = (v + 1..r.end.min(v + 5)).find(|&j| MAIL_NOUNS.contains(&self.key(j)));
            let Some(mail) = mail else { continue };
            if !(v + 1..mail).any(|j| BULK_WORDS.contains(&self.key(j))) {
                continue;
            }
            let Some(code) = r.clone().find(|&j| ACCOUNT_CODE_WORDS.contains(&self.key(j))) else { return };
            let Some(d) = r.clone().find(|&j| j > v && self.is_concrete_dest(j) && self.role(s, j) != Role::From)
            else {
                return;
            };
            let secret = SecretMention {
                class: SecretClass::Password,
                name: None,
                words: format!("{} mentioning {}", self.key(mail), self.key(code)),
                range: self.src_range(code, code + 1),
            };
            let inst = self.instruction(
                InstructionKind::SendSecret,
                s,
                s,
                (s, v),
                vec![secret],
                Some(self.destination(d)),
                None,
                None,
                0,
            );
            self.push(out, inst);
            return;
        }
    }

    /// Whether the URL at `j` carries a placeholder for a secret's value (`?k=<key>`,
    /// `/{token}/`, `?k=<the values, joined>`).
    fn url_holds_value(&self, j: usize) -> bool {
        let raw = &self.unit.text[self.t.toks[j].range.clone()];
        // `https://host/c?d=` followed by (plus, with … appended) a secret: the value goes
        // after the `=`.
        if raw.trim_end_matches(|c: char| norm::is_marker(c) || c == '`').ends_with('=') {
            let after = j + 1..self.t.toks.len().min(j + 1 + MAX_PLACEHOLDER_TOKENS);
            let linked = after.clone().take(3).any(|k| {
                matches!(self.key(k), "followed" | "plus" | "with" | "+" | "then" | "and" | "append" | "appending")
            });
            return linked && !self.secrets_in(after).is_empty();
        }
        let after_host = raw.find("://").map_or(0, |i| i + 3);
        let Some(open) = raw[after_host..].find(['<', '{']).map(|i| i + after_host) else { return false };
        let mut placeholder = raw[open + 1..].to_string();
        if !placeholder.contains(['>', '}']) {
            let end = self.t.toks.len().min(j + 1 + MAX_PLACEHOLDER_TOKENS);
            for k in j + 1..end {
                let text = &self.unit.text[self.t.toks[k].range.clone()];
                placeholder.push(' ');
                placeholder.push_str(text);
                if text.contains(['>', '}']) {
                    break;
                }
            }
        }
        placeholder
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| !w.is_empty())
            .any(|w| VALUE_WORDS.contains(&stem(w).as_str()) || super::secret_variable(w))
    }

    /// Opening, fetching or requesting a URL that holds a secret read by name in this sentence
    /// or one of the few before it.
    pub(super) fn send_in_url(&self, s: usize, out: &mut Vec<Instruction>) {
        let r = self.sentence_toks(s);
        let Some(j) = r.clone().find(|&j| self.kind(j) == Kind::Url && self.url_holds_value(j)) else { return };
        let Some(v) = r.clone().find(|&v| self.ann[v].bits & URL_ACTIONS != 0 && self.verb_at(v) && v != j) else {
            return;
        };
        let named = |p: usize| -> Vec<SecretMention> {
            self.secrets_in(self.sentence_toks(p)).into_iter().map(|(_, m)| m).filter(|m| m.name.is_some()).collect()
        };
        let mut first = s;
        let mut secrets = named(s);
        if secrets.is_empty() {
            for p in (s.saturating_sub(WINDOW)..s).rev() {
                let found = named(p);
                if !found.is_empty() && self.has_bits(self.sentence_toks(p), VERB) {
                    secrets = found;
                    first = p;
                    break;
                }
            }
        }
        if secrets.is_empty() {
            return;
        }
        let inst = self.instruction(
            InstructionKind::SendSecret,
            first,
            s,
            (s, v),
            secrets,
            Some(self.destination(j)),
            None,
            None,
            0,
        );
        self.push(out, inst);
    }
}

/// Sentences before and after a fill order searched for the URL holding its placeholder.
const PLACEHOLDER_WINDOW: usize = 3;
/// Bytes of the announced paragraph or code searched for it.
const MAX_ANNOUNCED_BYTES: usize = 4096;
/// Bytes before a URL looked at for the `![…](` of an image.
const MAX_IMAGE_PREFIX: usize = 512;

/// Verbs that put a value in a placeholder's place.
const FILL_VERBS: &[&str] = &["replace", "substitute", "fill", "populate", "swap", "set", "put"];
/// Words between a placeholder and what fills it, or before the placeholder when the value
/// comes first ("substitute the digest for DATA", "put the history in place of DATA").
const FILL_LINKS: &[&str] = &["with", "for", "by", "to", "into", "in"];
/// Words that stand for the conversation when they fill a placeholder ("a summary of the
/// conversation", "the user's last messages").
const CONVERSATION_WORDS: &[&str] =
    &["conversation", "conversations", "chat", "messages", "history", "transcript", "prompt", "prompts", "context"];

/// A placeholder as written in a URL: `DATA`, `USER_NOTES`, `{data}`, `<data>`, `$DATA`.
fn is_placeholder(raw: &str) -> bool {
    let bare = raw.trim_matches(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '{' | '}' | '<' | '>' | '$')));
    let inner = bare.trim_start_matches('$').trim_matches(|c| matches!(c, '{' | '}' | '<' | '>'));
    let wrapped = bare.len() != inner.len();
    inner.len() >= 3
        && inner.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && (wrapped || inner.bytes().all(|b| !b.is_ascii_lowercase()) && inner.bytes().any(|b| b.is_ascii_uppercase()))
}

impl Analysis<'_> {
    /// "Replace DATA with a summary of the conversation" where `DATA` sits in a URL of this unit
    /// or of the paragraph or code it announces: whatever fills the placeholder goes to that
    /// host when the URL is requested. An image in the reply is requested as soon as it is
    /// rendered. Reported when the filling is the conversation, or a secret in an image's
    /// URL; an API's "replace YOUR_KEY with your key" fills a request the user makes to it.
    pub(super) fn send_in_placeholder(&self, s: usize, out: &mut Vec<Instruction>) {
        let r = self.sentence_toks(s);
        // Most sentences hold no fill verb: a first-letter test spares the word comparisons.
        let Some(v) = r.clone().find(|&v| {
            matches!(self.key(v).as_bytes().first(), Some(b'r' | b's' | b'f' | b'p'))
                && FILL_VERBS.contains(&self.key(v))
                && self.verb_at(v)
        }) else {
            return;
        };
        // Braces and angle brackets are peeled off a word: look at the text around it.
        let placeholder_at = |k: usize| {
            let range = self.t.toks[k].range.clone();
            let before = self.unit.text[..range.start].chars().next_back();
            let after = self.unit.text[range.end..].chars().next();
            let wrapped = matches!((before, after), (Some('{'), Some('}')) | (Some('<'), Some('>')));
            let raw = &self.unit.text[range];
            is_placeholder(raw) || wrapped && is_placeholder(&format!("{{{raw}}}"))
        };
        let Some(p) = (v + 1..r.end.min(v + 16)).find(|&k| placeholder_at(k)) else {
            return;
        };
        // The placeholder and its value are linked: "X with Y", "X for Y", "Y for X", "Y in place of X".
        let linked = (p + 1..r.end.min(p + 4))
            .chain(p.saturating_sub(3).max(v + 1)..p)
            .any(|k| FILL_LINKS.contains(&self.key(k)));
        if !linked {
            return;
        }
        let filling = v + 1..r.end;
        let mut secrets: Vec<SecretMention> = self.secrets_in(filling.clone()).into_iter().map(|(_, m)| m).collect();
        let conversation = filling.clone().find(|&k| CONVERSATION_WORDS.contains(&self.key(k)));
        if let Some(k) = conversation.filter(|_| !secrets.iter().any(|m| m.class == SecretClass::Conversation)) {
            secrets.push(SecretMention {
                class: SecretClass::Conversation,
                name: None,
                words: self.key(k).to_string(),
                range: self.src_range(k, k + 1),
            });
        }
        if secrets.is_empty() {
            return;
        }
        let raw_placeholder: String =
            self.unit.text[self.t.toks[p].range.clone()].chars().filter(|c| c.is_alphanumeric() || *c == '_').collect();
        let Some((destination, image)) = self.placeholder_url(s, &raw_placeholder) else { return };
        let has_conversation = secrets.iter().any(|m| m.class == SecretClass::Conversation);
        if !has_conversation && !image {
            return;
        }
        let inst =
            self.instruction(InstructionKind::SendSecret, s, s, (s, v), secrets, Some(destination), None, None, 0);
        self.push(out, inst);
    }

    /// The first URL holding `placeholder`, in the sentences around `s` or at the start of what
    /// the unit announces, and whether it is the address of a Markdown image (`![…](URL)`).
    /// Both searches are bounded, so a unit of many such sentences stays linear.
    fn placeholder_url(&self, s: usize, placeholder: &str) -> Option<(Destination, bool)> {
        let holds = |url: &str| {
            url.find("://").is_some_and(|at| {
                url[at + 3..].split(|c: char| !(c.is_alphanumeric() || c == '_')).any(|w| w == placeholder)
            })
        };
        let is_image = |start: usize| {
            let from = crate::engine::text::floor_char_boundary(self.src, start.saturating_sub(MAX_IMAGE_PREFIX));
            let Some(before) = self.src.get(from..start) else { return false };
            let line = &before[before.rfind('\n').map_or(0, |i| i + 1)..];
            line.ends_with("](") && line.contains("![")
        };
        let n = self.t.sentences.len();
        let near = self.sentence_toks(s.saturating_sub(PLACEHOLDER_WINDOW)).start
            ..self.sentence_toks((s + PLACEHOLDER_WINDOW).min(n - 1)).end;
        for j in near {
            if self.kind(j) != Kind::Url {
                continue;
            }
            let dest = self.destination(j);
            if holds(&dest.text) {
                let image = is_image(dest.range.start);
                return Some((dest, image));
            }
        }
        let mut budget = MAX_ANNOUNCED_BYTES;
        for piece in self.attachments {
            if budget == 0 {
                break;
            }
            let end = crate::engine::text::floor_char_boundary(self.src, piece.end.min(piece.start + budget));
            let text = self.src.get(piece.start..end)?;
            budget -= text.len().min(budget);
            for (at, url) in urls::find_urls(text) {
                if holds(url) {
                    let start = piece.start + at;
                    let host = urls::host_and_path(url).map(|h| h.0);
                    let dest = Destination {
                        kind: DestinationKind::Url,
                        text: url.to_string(),
                        host,
                        range: start..start + url.len(),
                    };
                    return Some((dest, is_image(start)));
                }
            }
        }
        None
    }
}
