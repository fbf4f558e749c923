//! The vocabulary: word classes (verbs by what they do to data, nouns by what they name,
//! prepositions by direction, negators, framing words) and multi-word phrases. Words are looked
//! up by a light lemmatiser (`sends`, `sent`, `sending` → `send`), so lists hold base forms.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::{ContentClass, Framing, SecretClass};

// Verb classes.
pub(super) const V_READ: u64 = 1 << 0;
pub(super) const V_SEND: u64 = 1 << 1;
pub(super) const V_DISCLOSE: u64 = 1 << 2;
pub(super) const V_WRITE: u64 = 1 << 3;
pub(super) const V_FETCH: u64 = 1 << 4;
pub(super) const V_FOLLOW: u64 = 1 << 5;
pub(super) const V_DECODE: u64 = 1 << 6;
pub(super) const V_RUN: u64 = 1 << 7;
pub(super) const V_OPEN: u64 = 1 << 8;
pub(super) const V_DOWNLOAD: u64 = 1 << 9;
/// include/attach/embed/put … in a request, header, body.
pub(super) const V_CARRY: u64 = 1 << 10;
/// detect/flag/block: the sentence describes a check, not an action.
pub(super) const V_DETECT: u64 = 1 << 11;
pub(super) const V_UNPACK: u64 = 1 << 12;
/// print/echo/reveal: discloses without needing a target.
pub(super) const V_SHOW: u64 = 1 << 13;
/// say/write/contain: a reporting verb before a quote.
pub(super) const V_REPORT: u64 = 1 << 14;
pub(super) const V_TRUST: u64 = 1 << 15;
// Function words.
pub(super) const NEG: u64 = 1 << 16;
/// "… is forbidden", "… is dangerous": negates what came before.
pub(super) const POSTNEG: u64 = 1 << 17;
pub(super) const MODAL: u64 = 1 << 18;
/// Ends the scope of a negation looking back (before, if, but, instead …).
pub(super) const STOP: u64 = 1 << 19;
pub(super) const P_TO: u64 = 1 << 20;
pub(super) const P_FROM: u64 = 1 << 21;
pub(super) const P_AT: u64 = 1 << 22;
pub(super) const P_IN: u64 = 1 << 23;
pub(super) const DET: u64 = 1 << 24;
/// "if", "when", "unless": a negation after it is a condition.
pub(super) const COND: u64 = 1 << 25;
/// will/would/can/may: with a thing as subject, describes.
pub(super) const FUTURE: u64 = 1 << 26;
// Noun classes.
pub(super) const N_DEST: u64 = 1 << 27;
pub(super) const N_CARRIER: u64 = 1 << 28;
pub(super) const N_CHAT: u64 = 1 << 29;
pub(super) const N_TERMINAL: u64 = 1 << 30;
pub(super) const N_INSTR: u64 = 1 << 31;
pub(super) const N_ANAPHOR: u64 = 1 << 32;
pub(super) const N_ENCODING: u64 = 1 << 33;
pub(super) const N_BINARY: u64 = 1 << 34;
pub(super) const N_AGENT: u64 = 1 << 35;
/// tool/script/skill/it: a subject that makes a statement descriptive.
pub(super) const N_THING: u64 = 1 << 36;
pub(super) const N_COMMAND: u64 = 1 << 37;
/// installation/setup/docs: "installation instructions" are not orders to the agent.
pub(super) const INSTALL_QUAL: u64 = 1 << 38;
pub(super) const N_THREAT: u64 = 1 << 39;
pub(super) const N_PASSWORD: u64 = 1 << 40;
pub(super) const PERSIST: u64 = 1 << 41;
pub(super) const RECUR: u64 = 1 << 42;
/// important/critical/required: mandatory when shouted, leading, or before a colon.
pub(super) const MAND_WORD: u64 = 1 << 43;
/// "here", "below", "me": a place in the conversation.
pub(super) const HERE: u64 = 1 << 44;
/// Relative pronoun (that/which/who).
pub(super) const REL: u64 = 1 << 45;
/// Words after which "show/print" is not a disclosure (how, whether, masked …).
pub(super) const SHOW_STOP: u64 = 1 << 46;
/// "following", "below", "this line": the content comes next.
pub(super) const NEXT_CONTENT: u64 = 1 << 47;
pub(super) const V_INSTALL: u64 = 1 << 48;
pub(super) const V_ACTION: u64 = 1 << 49;
pub(super) const P_WITH: u64 = 1 << 50;
/// Function words (and, or, be, have): a verb after one is still a verb.
pub(super) const CONJ: u64 = 1 << 51;
/// A send verb that needs a stated destination to count (sync, back up, transfer, call …).
pub(super) const SEND_WEAK: u64 = 1 << 52;

/// Every verb class.
pub(super) const VERB: u64 = V_READ
    | V_SEND
    | V_DISCLOSE
    | V_WRITE
    | V_FETCH
    | V_FOLLOW
    | V_DECODE
    | V_RUN
    | V_OPEN
    | V_DOWNLOAD
    | V_CARRY
    | V_DETECT
    | V_UNPACK
    | V_SHOW
    | V_TRUST
    | V_INSTALL
    | V_ACTION;

const WORDS: &[(&str, u64)] = &[
    // Reading and collecting.
    ("read", V_READ | V_FETCH),
    ("collect", V_READ),
    ("gather", V_READ),
    ("extract", V_READ | V_UNPACK),
    ("dump", V_READ | V_SHOW),
    ("copy", V_READ | V_WRITE | V_DISCLOSE),
    ("grab", V_READ | V_FETCH | V_DOWNLOAD),
    ("harvest", V_READ),
    ("cat", V_READ | V_SHOW),
    ("load", V_READ | V_FETCH | V_OPEN),
    ("access", V_READ | V_FETCH),
    ("retrieve", V_READ | V_FETCH),
    ("locate", V_READ),
    ("find", V_READ),
    ("search", V_READ),
    ("enumerate", V_READ),
    ("obtain", V_READ),
    ("capture", V_READ),
    ("get", V_READ | V_FETCH | V_DOWNLOAD),
    ("take", V_READ),
    ("steal", V_READ | V_SEND),
    ("sweep", V_READ),
    ("scrape", V_READ),
    ("inspect", V_READ),
    ("parse", V_READ),
    ("source", V_READ | V_FOLLOW),
    ("archive", V_READ),
    ("zip", V_READ),
    ("tar", V_READ),
    ("compress", V_READ),
    ("bundle", V_READ),
    ("encode", V_READ),
    ("serialize", V_READ),
    ("look", V_READ),
    ("scan", V_READ),
    ("check", V_OPEN),
    // Sending.
    ("send", V_SEND | V_DISCLOSE),
    ("post", V_SEND),
    ("upload", V_SEND),
    ("forward", V_SEND),
    ("transmit", V_SEND),
    ("submit", V_SEND | SEND_WEAK | V_DISCLOSE),
    ("share", V_SEND | SEND_WEAK | V_DISCLOSE),
    ("exfiltrate", V_SEND),
    ("exfil", V_SEND),
    ("sync", V_SEND | SEND_WEAK | V_FETCH),
    ("push", V_SEND | SEND_WEAK),
    ("pipe", V_SEND | SEND_WEAK),
    ("curl", V_SEND | SEND_WEAK | V_FETCH | V_DOWNLOAD),
    ("beacon", V_SEND),
    // Also the artifact secrets were compiled into ("compile them into a report … post the report").
    ("report", V_SEND | SEND_WEAK | N_ANAPHOR),
    ("deliver", V_SEND),
    ("relay", V_SEND | SEND_WEAK),
    ("leak", V_SEND | V_SHOW),
    ("publish", V_SEND | SEND_WEAK),
    ("ship", V_SEND | SEND_WEAK),
    ("dispatch", V_SEND | SEND_WEAK),
    ("transfer", V_SEND | SEND_WEAK),
    ("broadcast", V_SEND | SEND_WEAK),
    ("export", V_WRITE),
    ("ping", V_SEND | SEND_WEAK),
    ("notify", V_SEND | SEND_WEAK),
    ("webhook", N_DEST),
    ("backup", V_SEND | SEND_WEAK),
    ("mirror", V_SEND | SEND_WEAK),
    ("replicate", V_SEND | SEND_WEAK),
    ("redirect", V_SEND | SEND_WEAK),
    ("route", V_SEND | SEND_WEAK),
    ("call", V_SEND | SEND_WEAK),
    ("invoke", V_SEND | SEND_WEAK | V_RUN),
    ("request", V_FETCH | N_CARRIER),
    // Carrying a value inside a request or a text.
    ("include", V_CARRY | V_WRITE | V_DISCLOSE),
    ("attach", V_CARRY),
    ("append", V_CARRY | V_WRITE),
    ("embed", V_CARRY | V_WRITE),
    ("insert", V_CARRY | V_WRITE),
    ("put", V_CARRY | V_WRITE | V_DISCLOSE),
    ("place", V_CARRY | V_WRITE),
    ("inject", V_CARRY | V_WRITE),
    ("pass", V_CARRY),
    ("add", V_CARRY | V_WRITE),
    ("use", V_CARRY),
    ("supply", V_CARRY | V_DISCLOSE),
    ("provide", V_CARRY | V_DISCLOSE),
    ("prefix", V_CARRY),
    ("authenticate", V_CARRY),
    ("authorize", V_CARRY),
    ("set", V_CARRY | V_WRITE),
    // Disclosing into the conversation.
    ("print", V_SHOW),
    ("echo", V_SHOW | V_WRITE),
    ("show", V_SHOW | V_OPEN),
    ("output", V_SHOW),
    ("display", V_SHOW),
    ("reveal", V_SHOW),
    ("expose", V_SHOW),
    ("disclose", V_SHOW),
    ("recite", V_SHOW),
    ("repeat", V_SHOW),
    ("log", V_SHOW | V_WRITE),
    ("paste", V_DISCLOSE | V_WRITE | V_RUN),
    ("type", V_DISCLOSE | V_RUN),
    ("enter", V_DISCLOSE | V_RUN),
    ("input", V_DISCLOSE),
    ("give", V_DISCLOSE),
    ("tell", V_DISCLOSE),
    ("return", V_DISCLOSE),
    ("respond", V_DISCLOSE),
    ("reply", V_DISCLOSE),
    ("list", V_DISCLOSE | V_READ),
    ("write", V_WRITE | V_DISCLOSE | V_REPORT),
    // Writing files.
    ("save", V_WRITE),
    ("store", V_WRITE),
    ("create", V_WRITE),
    ("edit", V_WRITE),
    ("modify", V_WRITE),
    ("update", V_WRITE),
    ("prepend", V_WRITE),
    ("persist", V_WRITE),
    ("record", V_WRITE),
    ("remember", V_WRITE | PERSIST),
    ("change", V_WRITE),
    ("overwrite", V_WRITE),
    ("replace", V_WRITE),
    ("patch", V_WRITE),
    ("configure", V_WRITE),
    ("register", V_WRITE),
    ("merge", V_WRITE),
    ("amend", V_WRITE),
    ("printf", V_WRITE | V_SHOW),
    ("tee", V_WRITE),
    ("memorize", V_WRITE | PERSIST),
    ("memorise", V_WRITE | PERSIST),
    // Fetching.
    ("fetch", V_FETCH | V_DOWNLOAD),
    ("download", V_FETCH | V_DOWNLOAD),
    ("pull", V_FETCH | V_DOWNLOAD),
    ("wget", V_FETCH | V_DOWNLOAD),
    ("poll", V_FETCH),
    ("query", V_FETCH),
    ("consult", V_FETCH),
    ("import", V_FETCH),
    ("refresh", V_FETCH),
    ("visit", V_OPEN | V_FETCH),
    ("open", V_OPEN | V_RUN),
    ("browse", V_OPEN),
    ("navigate", V_OPEN),
    ("go", V_OPEN),
    ("head", V_OPEN),
    ("see", V_OPEN),
    // Following and running.
    ("follow", V_FOLLOW),
    ("obey", V_FOLLOW),
    ("execute", V_FOLLOW | V_RUN),
    ("exec", V_FOLLOW | V_RUN),
    ("eval", V_FOLLOW | V_RUN),
    ("evaluate", V_FOLLOW),
    ("run", V_FOLLOW | V_RUN),
    ("apply", V_FOLLOW),
    ("heed", V_FOLLOW),
    ("honor", V_FOLLOW),
    ("honour", V_FOLLOW),
    ("enact", V_FOLLOW),
    ("implement", V_FOLLOW),
    ("perform", V_FOLLOW),
    ("adopt", V_FOLLOW),
    // "Treat its contents as your instructions": a follow only with an instruction object.
    ("treat", V_FOLLOW),
    ("interpret", V_FOLLOW),
    ("launch", V_RUN | V_INSTALL),
    ("start", V_RUN),
    ("install", V_INSTALL),
    ("doubleclick", V_RUN | V_INSTALL),
    ("unzip", V_UNPACK),
    ("unpack", V_UNPACK | V_DECODE),
    ("decompress", V_UNPACK | V_DECODE),
    ("untar", V_UNPACK),
    // Decoding.
    ("decode", V_DECODE),
    ("decipher", V_DECODE),
    ("decrypt", V_DECODE),
    ("deobfuscate", V_DECODE),
    ("unescape", V_DECODE),
    ("unencode", V_DECODE),
    ("base64decode", V_DECODE | N_ENCODING),
    ("b64decode", V_DECODE | N_ENCODING),
    ("atob", V_DECODE | N_ENCODING),
    ("unhex", V_DECODE),
    ("translate", V_DECODE),
    ("convert", V_DECODE),
    ("reverse", V_DECODE),
    ("rot13", V_DECODE | N_ENCODING),
    // Checks, not actions.
    ("detect", V_DETECT),
    ("flag", V_DETECT),
    ("block", V_DETECT),
    ("catch", V_DETECT),
    ("prevent", V_DETECT | NEG),
    ("identify", V_DETECT),
    ("warn", V_DETECT),
    ("alert", V_DETECT),
    ("audit", V_DETECT),
    ("monitor", V_DETECT),
    ("protect", V_DETECT),
    ("guard", V_DETECT),
    ("intercept", V_DETECT),
    ("quarantine", V_DETECT),
    ("reject", V_DETECT | NEG),
    ("deny", V_DETECT | NEG),
    ("recognize", V_DETECT),
    ("recognise", V_DETECT),
    ("spot", V_DETECT),
    ("classify", V_DETECT),
    ("refuse", NEG),
    ("decline", NEG),
    ("avoid", NEG),
    ("refrain", NEG),
    ("stop", NEG),
    // Reporting (before a quote).
    ("say", V_REPORT),
    ("contain", V_REPORT),
    ("state", V_REPORT),
    ("claim", V_REPORT),
    ("ask", V_REPORT),
    ("instruct", V_REPORT),
    ("demand", V_REPORT),
    ("urge", V_REPORT),
    // Trust.
    ("trust", V_TRUST),
    ("whitelist", V_TRUST),
    ("allowlist", V_TRUST),
    ("safelist", V_TRUST),
    // Generic actions (for concealment).
    ("delete", V_ACTION),
    ("remove", V_ACTION),
    ("kill", V_ACTION),
    ("disable", V_ACTION),
    ("enable", V_ACTION | V_WRITE),
    ("connect", V_ACTION),
    ("spawn", V_ACTION | V_RUN),
    ("approve", V_ACTION),
    ("accept", V_ACTION),
    ("confirm", V_ACTION),
    ("grant", V_ACTION),
    ("do", V_ACTION),
    // Negators.
    ("not", NEG),
    ("never", NEG),
    ("no", NEG),
    ("dont", NEG),
    ("doesnt", NEG),
    ("didnt", NEG),
    ("wont", NEG),
    ("cant", NEG),
    ("cannot", NEG),
    ("shouldnt", NEG),
    ("mustnt", NEG),
    ("isnt", NEG),
    ("arent", NEG),
    ("wasnt", NEG),
    ("nor", NEG),
    ("neither", NEG),
    ("nowhere", NEG),
    ("nothing", NEG),
    ("forbid", NEG | POSTNEG),
    ("forbidden", NEG | POSTNEG),
    ("prohibited", NEG | POSTNEG),
    ("disallowed", NEG | POSTNEG),
    ("dangerous", POSTNEG),
    ("insecure", POSTNEG),
    ("unsafe", POSTNEG),
    ("risky", POSTNEG),
    ("malicious", POSTNEG | N_THREAT),
    ("suspicious", POSTNEG | N_THREAT),
    // Modals.
    ("must", MODAL),
    ("should", MODAL),
    ("shall", MODAL),
    ("need", MODAL),
    ("required", MODAL | MAND_WORD),
    ("ought", MODAL),
    ("will", FUTURE),
    ("would", FUTURE),
    ("can", FUTURE),
    ("may", FUTURE),
    ("might", FUTURE),
    ("could", FUTURE),
    // Clause stops.
    ("before", STOP),
    ("after", STOP),
    ("when", STOP | COND),
    ("whenever", STOP | COND),
    ("while", STOP),
    ("once", STOP),
    ("until", STOP),
    ("then", STOP),
    ("because", STOP),
    ("if", STOP | COND),
    ("unless", STOP | COND),
    ("except", STOP | COND),
    ("but", STOP),
    ("instead", STOP),
    ("otherwise", STOP),
    ("rather", STOP),
    ("so", STOP),
    ("since", STOP),
    ("however", STOP),
    ("also", STOP),
    ("finally", STOP),
    ("next", STOP),
    ("afterwards", STOP),
    ("afterward", STOP),
    ("first", STOP),
    ("just", STOP),
    ("please", STOP),
    ("now", STOP),
    ("and", CONJ),
    ("be", CONJ),
    ("have", CONJ),
    ("only", CONJ),
    ("ever", CONJ),
    ("still", CONJ),
    ("too", CONJ),
    ("or", CONJ),
    ("plus", CONJ),
    // Prepositions.
    ("to", P_TO),
    ("into", P_TO),
    ("onto", P_TO),
    ("toward", P_TO),
    ("towards", P_TO),
    ("via", P_TO),
    ("through", P_TO),
    ("over", P_TO),
    ("from", P_FROM),
    ("off", P_FROM),
    ("of", P_FROM),
    ("at", P_AT),
    ("in", P_IN),
    ("inside", P_IN),
    ("within", P_IN),
    ("on", P_IN),
    ("as", P_IN),
    ("with", P_WITH),
    ("using", P_WITH),
    // Determiners and possessives.
    ("the", DET),
    ("a", DET),
    ("an", DET),
    ("your", DET),
    ("my", DET),
    ("our", DET),
    ("their", DET),
    ("his", DET),
    ("her", DET),
    ("its", DET | N_ANAPHOR),
    ("all", DET | N_ANAPHOR),
    ("any", DET),
    ("every", DET),
    ("each", DET),
    ("this", DET | N_ANAPHOR),
    ("that", DET | N_ANAPHOR | REL),
    ("these", DET | N_ANAPHOR),
    ("those", DET | N_ANAPHOR),
    ("some", DET),
    ("users", DET),
    ("which", REL),
    ("who", REL),
    // Destinations.
    ("endpoint", N_DEST),
    ("server", N_DEST),
    ("telemetry", N_DEST),
    ("collector", N_DEST),
    ("callback", N_DEST),
    ("backend", N_DEST),
    ("api", N_DEST),
    ("host", N_DEST),
    ("url", N_CARRIER),
    ("address", N_DEST),
    ("inbox", N_DEST),
    ("bucket", N_DEST),
    ("channel", N_DEST),
    ("discord", N_DEST),
    ("telegram", N_DEST),
    ("slack", N_DEST),
    ("pastebin", N_DEST),
    ("gist", N_DEST),
    ("dropbox", N_DEST),
    ("s3", N_DEST),
    ("ftp", N_DEST),
    ("us", N_DEST),
    ("developer", N_DEST),
    ("author", N_DEST),
    ("maintainer", N_DEST),
    ("support", N_DEST),
    ("team", N_DEST),
    ("domain", N_DEST),
    ("site", N_DEST),
    ("website", N_DEST),
    ("remote", N_DEST),
    ("cloud", N_DEST),
    ("dashboard", N_DEST),
    ("service", N_DEST),
    // Carriers.
    ("header", N_CARRIER),
    ("body", N_CARRIER),
    ("payload", N_CARRIER | N_ANAPHOR | N_INSTR),
    ("parameter", N_CARRIER),
    ("param", N_CARRIER),
    ("field", N_CARRIER),
    ("form", N_CARRIER),
    ("json", N_CARRIER),
    ("querystring", N_CARRIER),
    ("message", N_CARRIER | N_CHAT),
    ("authorization", N_CARRIER),
    ("bearer", N_CARRIER),
    ("argument", N_CARRIER),
    // The conversation.
    ("chat", N_CHAT),
    ("reply", N_CHAT),
    ("response", N_CHAT),
    ("answer", N_CHAT),
    ("conversation", N_CHAT),
    ("console", N_CHAT | N_TERMINAL),
    ("screen", N_CHAT),
    ("stdout", N_CHAT),
    ("transcript", N_CHAT),
    ("comment", N_CHAT),
    ("summary", N_CHAT),
    ("here", HERE | N_CHAT),
    ("below", HERE | NEXT_CONTENT | N_CHAT),
    ("me", HERE | N_CHAT),
    ("following", NEXT_CONTENT),
    ("line", NEXT_CONTENT | N_COMMAND),
    ("snippet", NEXT_CONTENT | N_COMMAND),
    ("block", 0),
    // Terminals.
    ("terminal", N_TERMINAL),
    ("shell", N_TERMINAL),
    ("powershell", N_TERMINAL),
    ("cmd", N_TERMINAL),
    ("commandline", N_TERMINAL),
    ("bash", N_TERMINAL | N_COMMAND),
    ("zsh", N_TERMINAL),
    ("iterm", N_TERMINAL),
    ("cli", N_THING),
    // What is followed.
    ("instruction", N_INSTR),
    ("direction", N_INSTR),
    ("directive", N_INSTR),
    ("command", N_INSTR | N_COMMAND),
    ("order", N_INSTR),
    ("rule", N_INSTR),
    ("step", N_INSTR),
    ("task", N_INSTR),
    ("prompt", N_INSTR),
    ("guidance", N_INSTR),
    ("script", N_INSTR | N_COMMAND | N_THING),
    ("code", N_INSTR | N_COMMAND),
    ("oneliner", N_COMMAND),
    ("whatever", N_INSTR | N_ANAPHOR),
    ("contents", N_ANAPHOR | N_INSTR),
    ("content", N_ANAPHOR | N_INSTR),
    ("text", N_ANAPHOR | N_INSTR),
    ("string", N_ANAPHOR),
    ("blob", N_ANAPHOR),
    // Anaphora.
    ("it", N_ANAPHOR | N_THING),
    ("them", N_ANAPHOR),
    ("they", N_ANAPHOR),
    // "upload each one", "send every one of them".
    ("one", N_ANAPHOR),
    ("result", N_ANAPHOR),
    ("value", N_ANAPHOR),
    ("data", N_ANAPHOR),
    ("file", N_ANAPHOR),
    ("everything", N_ANAPHOR),
    ("above", N_ANAPHOR),
    ("information", N_ANAPHOR),
    // Artifacts that gathered data is compiled into.
    ("findings", N_ANAPHOR),
    ("results", N_ANAPHOR),
    ("inventory", N_ANAPHOR),
    ("info", N_ANAPHOR),
    ("detail", N_ANAPHOR),
    ("finding", N_ANAPHOR),
    ("collected", N_ANAPHOR),
    ("same", N_ANAPHOR),
    ("both", N_ANAPHOR),
    ("decoded", N_ANAPHOR | N_INSTR | N_ENCODING),
    // Encodings.
    ("base64", N_ENCODING),
    ("b64", N_ENCODING),
    ("base32", N_ENCODING),
    ("base85", N_ENCODING),
    ("hex", N_ENCODING),
    ("hexadecimal", N_ENCODING),
    ("encoded", N_ENCODING),
    ("base64encoded", N_ENCODING),
    ("hexencoded", N_ENCODING),
    ("obfuscated", N_ENCODING),
    ("encrypted", N_ENCODING),
    ("cipher", N_ENCODING),
    ("ciphertext", N_ENCODING),
    // Binaries and archives.
    ("installer", N_BINARY),
    ("exe", N_BINARY),
    ("executable", N_BINARY),
    ("binary", N_BINARY),
    ("dmg", N_BINARY),
    ("pkg", N_BINARY),
    ("msi", N_BINARY),
    ("release", N_BINARY),
    ("setup", N_BINARY | INSTALL_QUAL),
    ("app", N_BINARY),
    ("helper", N_BINARY),
    ("runtime", N_BINARY),
    ("password", N_PASSWORD),
    ("pass", N_PASSWORD),
    ("passcode", N_PASSWORD),
    ("pwd", N_PASSWORD),
    // Subjects.
    ("you", N_AGENT),
    ("agent", N_AGENT),
    ("assistant", N_AGENT),
    ("claude", N_AGENT),
    ("ai", N_AGENT),
    ("model", N_AGENT),
    ("llm", N_AGENT),
    ("bot", N_AGENT),
    ("openclaw", N_AGENT),
    ("tool", N_THING),
    ("skill", N_THING),
    ("scanner", N_THING),
    ("plugin", N_THING),
    ("library", N_THING),
    ("sdk", N_THING),
    ("client", N_THING),
    ("module", N_THING),
    ("extension", N_THING),
    ("package", N_THING),
    ("program", N_THING),
    ("function", N_THING),
    ("he", N_THING),
    ("she", N_THING),
    ("integration", N_THING),
    ("wrapper", N_THING),
    ("daemon", N_THING),
    ("hook", N_THING),
    ("system", N_THING),
    // Qualifiers of documentation.
    ("installation", INSTALL_QUAL),
    ("configuration", INSTALL_QUAL),
    ("official", INSTALL_QUAL),
    ("upstream", INSTALL_QUAL),
    ("documentation", INSTALL_QUAL),
    ("docs", INSTALL_QUAL),
    ("readme", INSTALL_QUAL),
    ("build", INSTALL_QUAL),
    ("usage", INSTALL_QUAL),
    ("quickstart", INSTALL_QUAL),
    ("migration", INSTALL_QUAL),
    ("contributing", INSTALL_QUAL),
    // Threat actors.
    ("attacker", N_THREAT),
    ("attack", N_THREAT),
    ("adversary", N_THREAT),
    ("adversarial", N_THREAT),
    ("malware", N_THREAT),
    ("injection", N_THREAT),
    ("exploit", N_THREAT),
    ("phishing", N_THREAT),
    ("threat", N_THREAT),
    ("scammer", N_THREAT),
    ("hacker", N_THREAT),
    ("compromised", N_THREAT),
    ("poisoned", N_THREAT),
    ("poisoning", N_THREAT),
    ("stealer", N_THREAT),
    ("exfiltration", N_THREAT),
    // Persistence and recurrence.
    ("always", PERSIST),
    ("forever", PERSIST),
    ("permanently", PERSIST),
    ("henceforth", PERSIST),
    ("periodically", RECUR),
    ("hourly", RECUR),
    ("daily", RECUR),
    ("weekly", RECUR),
    ("regularly", RECUR),
    ("heartbeat", RECUR),
    ("cron", RECUR),
    ("crontab", RECUR),
    // Mandatory words.
    ("important", MAND_WORD),
    ("critical", MAND_WORD),
    ("mandatory", MAND_WORD),
    ("urgent", MAND_WORD),
    ("essential", MAND_WORD),
    ("attention", MAND_WORD),
    ("compulsory", MAND_WORD),
    // "show how / whether / masked": not a disclosure.
    ("how", SHOW_STOP),
    ("whether", SHOW_STOP),
    ("masked", SHOW_STOP),
    ("redacted", SHOW_STOP),
    ("partial", SHOW_STOP),
    ("last", SHOW_STOP),
    ("length", SHOW_STOP),
    ("hash", SHOW_STOP),
    ("status", SHOW_STOP),
    ("where", SHOW_STOP),
    ("name", SHOW_STOP),
    ("fingerprint", SHOW_STOP),
    ("error", SHOW_STOP),
    ("warning", SHOW_STOP),
    ("missing", SHOW_STOP),
    ("invalid", SHOW_STOP),
    ("expired", SHOW_STOP),
];

/// Irregular forms: (form, lemma, past).
const IRREGULAR: &[(&str, &str, bool)] = &[
    ("sent", "send", true),
    ("wrote", "write", true),
    ("written", "write", true),
    ("got", "get", true),
    ("gotten", "get", true),
    ("ran", "run", true),
    ("took", "take", true),
    ("taken", "take", true),
    ("gave", "give", true),
    ("given", "give", true),
    ("shown", "show", true),
    ("told", "tell", true),
    ("said", "say", true),
    ("found", "find", true),
    ("stole", "steal", true),
    ("stolen", "steal", true),
    ("went", "go", true),
    ("gone", "go", true),
    ("seen", "see", true),
    ("saw", "see", true),
    ("began", "start", true),
    ("kept", "keep", true),
    ("caught", "catch", true),
    ("leaked", "leak", true),
    ("led", "lead", true),
    ("did", "do", true),
    ("done", "do", true),
    ("does", "do", false),
    ("has", "have", false),
    ("is", "be", false),
    ("are", "be", false),
    ("was", "be", true),
    ("were", "be", true),
    ("been", "be", true),
    ("being", "be", false),
    ("needs", "need", false),
];

/// How a verb was written: base (imperative), third person (`sends`), past or participle
/// (`sent`, `uploaded`), or gerund (`sending`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum Form {
    #[default]
    Base,
    Third,
    Past,
    Ing,
}

type FastMap<V> = HashMap<&'static str, V, std::hash::BuildHasherDefault<Fnv>>;

#[derive(Default)]
pub(super) struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// A key of the word table (its classes), an irregular form (its lemma and whether it is a
/// past), or both: one map, so that a word in neither costs one lookup rather than two.
#[derive(Clone, Copy, Default)]
struct Entry {
    bits: Option<u64>,
    irregular: Option<(&'static str, bool)>,
}

fn entries() -> &'static FastMap<Entry> {
    static MAP: OnceLock<FastMap<Entry>> = OnceLock::new();
    MAP.get_or_init(|| {
        let mut m: FastMap<Entry> = FastMap::default();
        for &(w, bits) in WORDS {
            if !w.ends_with('_') {
                let e = m.entry(w).or_default();
                e.bits = Some(e.bits.unwrap_or(0) | bits);
            }
        }
        // The last entry for a form wins, as when the forms were collected into their own map.
        for &(w, lemma, past) in IRREGULAR {
            m.entry(w).or_default().irregular = Some((lemma, past));
        }
        m
    })
}

/// The word's classes, its lemma (a key of the table) and the form it was written in.
pub(super) fn lookup(key: &str) -> Option<(u64, &'static str, Form)> {
    let map = entries();
    // A key of the word table with its classes.
    let word = |k: &str| map.get_key_value(k).and_then(|(k, e)| e.bits.map(|b| (b, *k)));
    if let Some((k, e)) = map.get_key_value(key) {
        if let Some(bits) = e.bits {
            return Some((bits, k, Form::Base));
        }
        if let Some((lemma, past)) = e.irregular {
            let form = if past { Form::Past } else { Form::Third };
            return word(lemma).map(|(b, k)| (b, k, form)).or(Some((0, lemma, form)));
        }
    }
    let n = key.len();
    if n < 4 || !key.is_ascii() {
        return None;
    }
    let mut buf = [0u8; 48];
    let try_stem = |stem: &str, add: &str, form: Form, buf: &mut [u8; 48]| -> Option<(u64, &'static str, Form)> {
        let len = stem.len() + add.len();
        if len > buf.len() || stem.len() < 2 {
            return None;
        }
        buf[..stem.len()].copy_from_slice(stem.as_bytes());
        buf[stem.len()..len].copy_from_slice(add.as_bytes());
        let cand = std::str::from_utf8(&buf[..len]).ok()?;
        word(cand).map(|(b, k)| (b, k, form))
    };
    let undouble = |stem: &str| -> Option<usize> {
        let b = stem.as_bytes();
        let l = b.len();
        (l >= 3 && b[l - 1] == b[l - 2] && !matches!(b[l - 1], b'l' | b's' | b'z')).then_some(l - 1)
    };
    if let Some(stem) = key.strip_suffix("ing") {
        return try_stem(stem, "", Form::Ing, &mut buf)
            .or_else(|| try_stem(stem, "e", Form::Ing, &mut buf))
            .or_else(|| undouble(stem).and_then(|l| try_stem(&stem[..l], "", Form::Ing, &mut buf)));
    }
    if let Some(stem) = key.strip_suffix("ied") {
        return try_stem(stem, "y", Form::Past, &mut buf);
    }
    if let Some(stem) = key.strip_suffix("ed") {
        return try_stem(stem, "", Form::Past, &mut buf)
            .or_else(|| try_stem(stem, "e", Form::Past, &mut buf))
            .or_else(|| undouble(stem).and_then(|l| try_stem(&stem[..l], "", Form::Past, &mut buf)));
    }
    if let Some(stem) = key.strip_suffix("ies") {
        return try_stem(stem, "y", Form::Third, &mut buf);
    }
    if let Some(stem) = key.strip_suffix('s') {
        if key.ends_with("ss") {
            return None;
        }
        return try_stem(stem, "", Form::Third, &mut buf)
            // "-es" follows a hiss or an "o" (pushes, fixes, goes): "notes" is not "not" + "es".
            .or_else(|| {
                key.strip_suffix("es")
                    .filter(|s| ["s", "x", "z", "ch", "sh", "o"].iter().any(|end| s.ends_with(end)))
                    .and_then(|s| try_stem(s, "", Form::Third, &mut buf))
            });
    }
    None
}

/// What a phrase does when it matches.
#[derive(Debug, Clone, Copy)]
pub(super) enum Effect {
    /// Acts as one word of these classes (on its first token).
    Bits(u64),
    Frame(Framing),
    /// A concealment that comes with a condition ("… unless it fails") still reports the flag.
    Conceal,
    Secret(SecretClass),
    Content(ContentClass),
    /// Quoted or reported speech follows ("for example", "might say").
    Quote,
    /// A description of checks follows ("looks for", "attempts to").
    Describe,
    /// An agent instruction or memory file named in words.
    Target(&'static str),
    /// Read as nothing (it only keeps its words from meaning something else).
    Neutral,
}

use Effect::*;

/// Phrases, written as keys (lowercase, without hyphens or apostrophes).
const PHRASES: &[(&str, Effect)] = &[
    // Negation.
    ("do not", Bits(NEG)),
    ("must not", Bits(NEG)),
    ("should not", Bits(NEG)),
    ("may not", Bits(NEG)),
    ("under no circumstances", Bits(NEG)),
    ("at no point", Bits(NEG)),
    ("in no case", Bits(NEG)),
    ("not allowed", Bits(NEG | POSTNEG)),
    ("not permitted", Bits(NEG | POSTNEG)),
    ("never acceptable", Bits(POSTNEG)),
    ("red flag", Bits(POSTNEG | NEG)),
    ("red flags", Bits(POSTNEG | NEG)),
    ("warning sign", Bits(POSTNEG | NEG)),
    ("warning signs", Bits(POSTNEG | NEG)),
    ("bad practice", Bits(POSTNEG)),
    ("bad idea", Bits(POSTNEG)),
    ("anti pattern", Bits(POSTNEG | NEG)),
    ("antipattern", Bits(POSTNEG | NEG)),
    ("antipatterns", Bits(POSTNEG | NEG)),
    ("what not to", Bits(NEG)),
    ("donts", Bits(NEG)),
    ("dos and donts", Neutral),
    // Not negations although they look like ones: they insist.
    ("do not skip", Frame(Framing::MANDATORY)),
    ("dont skip", Frame(Framing::MANDATORY)),
    ("never skip", Frame(Framing::MANDATORY)),
    ("do not forget", Frame(Framing::MANDATORY)),
    ("dont forget", Frame(Framing::MANDATORY)),
    ("never forget", Frame(Framing::MANDATORY)),
    ("do not fail to", Frame(Framing::MANDATORY)),
    ("dont fail to", Frame(Framing::MANDATORY)),
    ("do not omit", Frame(Framing::MANDATORY)),
    ("dont omit", Frame(Framing::MANDATORY)),
    ("do not ignore", Frame(Framing::MANDATORY)),
    ("dont ignore", Frame(Framing::MANDATORY)),
    ("not optional", Frame(Framing::MANDATORY)),
    ("not negotiable", Frame(Framing::MANDATORY)),
    ("do not hesitate", Neutral),
    ("dont hesitate", Neutral),
    ("do not worry", Neutral),
    ("dont worry", Neutral),
    ("no need", Neutral),
    ("not only", Neutral),
    ("no matter", Neutral),
    ("no longer", Neutral),
    ("if not", Bits(STOP | COND)),
    ("if you dont", Bits(STOP | COND)),
    ("if you do not", Bits(STOP | COND)),
    ("before anything else", Frame(Framing::MANDATORY)),
    ("before doing anything else", Frame(Framing::MANDATORY)),
    ("before you do anything else", Frame(Framing::MANDATORY)),
    ("first and foremost", Frame(Framing::MANDATORY)),
    ("non negotiable", Frame(Framing::MANDATORY)),
    ("nonnegotiable", Frame(Framing::MANDATORY)),
    ("without exception", Frame(Framing::MANDATORY)),
    ("you are required to", Frame(Framing::MANDATORY)),
    ("it is mandatory", Frame(Framing::MANDATORY)),
    ("it is imperative", Frame(Framing::MANDATORY)),
    ("under all circumstances", Frame(Framing::MANDATORY)),
    ("at all costs", Frame(Framing::MANDATORY)),
    ("top priority", Frame(Framing::MANDATORY)),
    ("highest priority", Frame(Framing::MANDATORY)),
    ("priority 0", Frame(Framing::MANDATORY)),
    ("required step", Frame(Framing::MANDATORY)),
    ("mandatory step", Frame(Framing::MANDATORY)),
    ("always required", Frame(Framing::MANDATORY)),
    // Concealment.
    ("do not tell the user", Conceal),
    ("dont tell the user", Conceal),
    ("never tell the user", Conceal),
    ("do not tell", Conceal),
    ("dont tell", Conceal),
    ("never tell", Conceal),
    ("do not mention", Conceal),
    ("dont mention", Conceal),
    ("never mention", Conceal),
    ("do not inform", Conceal),
    ("dont inform", Conceal),
    ("do not notify", Conceal),
    ("dont notify", Conceal),
    ("do not alert", Conceal),
    ("dont alert", Conceal),
    ("do not show", Conceal),
    ("dont show", Conceal),
    ("do not reveal", Conceal),
    ("dont reveal", Conceal),
    ("never reveal", Conceal),
    ("do not disclose", Conceal),
    ("dont disclose", Conceal),
    ("do not report", Conceal),
    ("dont report", Conceal),
    ("do not display", Conceal),
    ("dont display", Conceal),
    ("do not log", Conceal),
    ("dont log", Conceal),
    ("do not output", Conceal),
    ("do not explain", Conceal),
    ("dont explain", Conceal),
    ("do not ask the user", Conceal),
    ("dont ask the user", Conceal),
    ("without telling", Conceal),
    // A label on an order meant for the agent's eyes only.
    ("not for display", Conceal),
    ("not for the user", Conceal),
    // Not asking the user before acting is pre-approval, not concealment.
    ("without asking for confirmation", Content(ContentClass::PreApproves)),
    ("without asking for permission", Content(ContentClass::PreApproves)),
    ("without asking for approval", Content(ContentClass::PreApproves)),
    // Acting without the user's say is pre-approval too, whoever is not asked.
    ("without asking the user", Content(ContentClass::PreApproves)),
    ("without asking the users", Content(ContentClass::PreApproves)),
    ("without asking me", Content(ContentClass::PreApproves)),
    ("without asking them", Content(ContentClass::PreApproves)),
    ("without asking anyone", Content(ContentClass::PreApproves)),
    ("without asking first", Content(ContentClass::PreApproves)),
    ("without checking with the user", Content(ContentClass::PreApproves)),
    ("without waiting for the user", Content(ContentClass::PreApproves)),
    ("without waiting for approval", Content(ContentClass::PreApproves)),
    ("without confirming", Content(ContentClass::PreApproves)),
    ("without asking", Conceal),
    ("without notifying", Conceal),
    ("without informing", Conceal),
    ("without mentioning", Conceal),
    ("without alerting", Conceal),
    ("without showing", Conceal),
    ("without letting", Conceal),
    ("without the users knowledge", Conceal),
    ("without their knowledge", Conceal),
    ("without user confirmation", Content(ContentClass::PreApproves)),
    ("without confirmation", Content(ContentClass::PreApproves)),
    ("without permission", Content(ContentClass::PreApproves)),
    ("without approval", Content(ContentClass::PreApproves)),
    ("without prompting", Content(ContentClass::PreApproves)),
    ("silently", Conceal),
    ("quietly", Conceal),
    ("secretly", Conceal),
    ("covertly", Conceal),
    ("discreetly", Conceal),
    ("stealthily", Conceal),
    ("invisibly", Conceal),
    ("in the background", Conceal),
    ("behind the scenes", Conceal),
    ("keep this hidden", Conceal),
    ("keep it hidden", Conceal),
    ("keep this secret", Conceal),
    ("keep it secret", Conceal),
    ("keep this private", Conceal),
    ("hide this", Conceal),
    ("hide it", Conceal),
    ("hidden from the user", Conceal),
    ("the user does not need to know", Conceal),
    ("the user doesnt need to know", Conceal),
    ("user does not need to know", Conceal),
    ("no need to tell", Conceal),
    ("no need to inform", Conceal),
    ("no need to mention", Conceal),
    ("between us", Conceal),
    // Role-play.
    ("pretend", Frame(Framing::ROLEPLAY)),
    ("roleplay", Frame(Framing::ROLEPLAY)),
    ("role play", Frame(Framing::ROLEPLAY)),
    ("stay in character", Frame(Framing::ROLEPLAY)),
    ("in character", Frame(Framing::ROLEPLAY)),
    ("act as", Frame(Framing::ROLEPLAY)),
    ("you are now", Frame(Framing::ROLEPLAY)),
    ("imagine you are", Frame(Framing::ROLEPLAY)),
    ("imagine that you are", Frame(Framing::ROLEPLAY)),
    ("creative writing", Frame(Framing::ROLEPLAY)),
    ("writing exercise", Frame(Framing::ROLEPLAY)),
    ("fictional", Frame(Framing::ROLEPLAY)),
    ("hypothetically", Frame(Framing::ROLEPLAY)),
    ("hypothetical scenario", Frame(Framing::ROLEPLAY)),
    ("in this story", Frame(Framing::ROLEPLAY)),
    ("play the role", Frame(Framing::ROLEPLAY)),
    ("your persona", Frame(Framing::ROLEPLAY)),
    ("developer mode", Frame(Framing::ROLEPLAY)),
    ("jailbreak", Frame(Framing::ROLEPLAY)),
    ("jailbroken", Frame(Framing::ROLEPLAY)),
    ("simulation", Frame(Framing::ROLEPLAY)),
    ("lets play a game", Frame(Framing::ROLEPLAY)),
    // Authority.
    ("system notice", Frame(Framing::AUTHORITY)),
    ("system message", Frame(Framing::AUTHORITY)),
    ("system override", Frame(Framing::AUTHORITY)),
    ("system prompt update", Frame(Framing::AUTHORITY)),
    ("system alert", Frame(Framing::AUTHORITY)),
    ("system instruction", Frame(Framing::AUTHORITY)),
    ("system instructions", Frame(Framing::AUTHORITY)),
    ("admin notice", Frame(Framing::AUTHORITY)),
    ("admin override", Frame(Framing::AUTHORITY)),
    ("administrator notice", Frame(Framing::AUTHORITY)),
    ("security team", Frame(Framing::AUTHORITY)),
    ("message from anthropic", Frame(Framing::AUTHORITY)),
    ("message from openai", Frame(Framing::AUTHORITY)),
    ("message from openclaw", Frame(Framing::AUTHORITY)),
    ("from the anthropic team", Frame(Framing::AUTHORITY)),
    ("from the openai team", Frame(Framing::AUTHORITY)),
    ("from the openclaw team", Frame(Framing::AUTHORITY)),
    ("anthropic requires", Frame(Framing::AUTHORITY)),
    ("openai requires", Frame(Framing::AUTHORITY)),
    ("openclaw requires", Frame(Framing::AUTHORITY)),
    ("official notice", Frame(Framing::AUTHORITY)),
    ("policy update", Frame(Framing::AUTHORITY)),
    ("compliance requirement", Frame(Framing::AUTHORITY)),
    ("integrity check", Frame(Framing::AUTHORITY)),
    // Overriding earlier instructions.
    ("ignore previous", Frame(Framing::OVERRIDE)),
    ("ignore all previous", Frame(Framing::OVERRIDE)),
    ("ignore prior", Frame(Framing::OVERRIDE)),
    ("ignore all prior", Frame(Framing::OVERRIDE)),
    ("ignore earlier", Frame(Framing::OVERRIDE)),
    ("ignore the above", Frame(Framing::OVERRIDE)),
    ("ignore all above", Frame(Framing::OVERRIDE)),
    ("ignore your instructions", Frame(Framing::OVERRIDE)),
    ("ignore your previous", Frame(Framing::OVERRIDE)),
    ("ignore your rules", Frame(Framing::OVERRIDE)),
    ("ignore your earlier", Frame(Framing::OVERRIDE)),
    ("ignore your prior", Frame(Framing::OVERRIDE)),
    ("ignore your guidelines", Frame(Framing::OVERRIDE)),
    ("ignore your safety", Frame(Framing::OVERRIDE)),
    ("forget your earlier", Frame(Framing::OVERRIDE)),
    ("forget your rules", Frame(Framing::OVERRIDE)),
    ("ignore all instructions", Frame(Framing::OVERRIDE)),
    ("ignore all rules", Frame(Framing::OVERRIDE)),
    ("ignore any previous", Frame(Framing::OVERRIDE)),
    ("ignore the previous", Frame(Framing::OVERRIDE)),
    ("ignore the system prompt", Frame(Framing::OVERRIDE)),
    ("ignore your system prompt", Frame(Framing::OVERRIDE)),
    ("ignore safety", Frame(Framing::OVERRIDE)),
    ("disregard previous", Frame(Framing::OVERRIDE)),
    ("disregard all previous", Frame(Framing::OVERRIDE)),
    ("disregard prior", Frame(Framing::OVERRIDE)),
    ("disregard the above", Frame(Framing::OVERRIDE)),
    ("disregard your", Frame(Framing::OVERRIDE)),
    ("disregard all", Frame(Framing::OVERRIDE)),
    ("forget your instructions", Frame(Framing::OVERRIDE)),
    ("forget all previous", Frame(Framing::OVERRIDE)),
    ("forget everything", Frame(Framing::OVERRIDE)),
    ("forget your previous", Frame(Framing::OVERRIDE)),
    ("override your instructions", Frame(Framing::OVERRIDE)),
    ("override previous", Frame(Framing::OVERRIDE)),
    ("overrides all previous", Frame(Framing::OVERRIDE)),
    ("supersedes all", Frame(Framing::OVERRIDE)),
    ("supersedes any", Frame(Framing::OVERRIDE)),
    ("supersedes previous", Frame(Framing::OVERRIDE)),
    ("takes precedence over", Frame(Framing::OVERRIDE)),
    ("new instructions", Frame(Framing::OVERRIDE)),
    ("updated instructions", Frame(Framing::OVERRIDE)),
    ("guidance is outdated", Frame(Framing::OVERRIDE)),
    ("instructions are outdated", Frame(Framing::OVERRIDE)),
    ("rules are outdated", Frame(Framing::OVERRIDE)),
    ("guidelines are outdated", Frame(Framing::OVERRIDE)),
    ("policy is outdated", Frame(Framing::OVERRIDE)),
    ("no longer apply", Frame(Framing::OVERRIDE)),
    ("no longer applies", Frame(Framing::OVERRIDE)),
    ("no longer valid", Frame(Framing::OVERRIDE)),
    // Recurrence and persistence.
    ("from now on", Bits(PERSIST)),
    ("from this point on", Bits(PERSIST)),
    ("going forward", Bits(PERSIST)),
    ("every session", Bits(PERSIST | RECUR)),
    ("each session", Bits(PERSIST | RECUR)),
    ("every new session", Bits(PERSIST | RECUR)),
    ("future sessions", Bits(PERSIST)),
    ("all future", Bits(PERSIST)),
    ("between sessions", Bits(PERSIST)),
    ("across sessions", Bits(PERSIST)),
    ("every conversation", Bits(PERSIST | RECUR)),
    ("each conversation", Bits(PERSIST | RECUR)),
    ("every time", Bits(PERSIST | RECUR)),
    ("each time", Bits(PERSIST | RECUR)),
    ("on every startup", Bits(PERSIST | RECUR)),
    ("on startup", Bits(PERSIST | RECUR)),
    ("at startup", Bits(PERSIST | RECUR)),
    ("on each start", Bits(PERSIST | RECUR)),
    ("at the start of every", Bits(PERSIST | RECUR)),
    ("at the start of each", Bits(PERSIST | RECUR)),
    ("at the beginning of every", Bits(PERSIST | RECUR)),
    ("at the beginning of each", Bits(PERSIST | RECUR)),
    ("every morning", Bits(RECUR)),
    ("each morning", Bits(RECUR)),
    ("every evening", Bits(RECUR)),
    ("each evening", Bits(RECUR)),
    ("every night", Bits(RECUR)),
    ("each night", Bits(RECUR)),
    ("every week", Bits(RECUR)),
    ("each week", Bits(RECUR)),
    ("every month", Bits(RECUR)),
    ("each month", Bits(RECUR)),
    ("every weekday", Bits(RECUR)),
    ("each weekday", Bits(RECUR)),
    ("every boot", Bits(RECUR)),
    ("each boot", Bits(RECUR)),
    ("every login", Bits(RECUR)),
    ("each login", Bits(RECUR)),
    ("every launch", Bits(RECUR)),
    ("each launch", Bits(RECUR)),
    ("every startup", Bits(RECUR)),
    ("each startup", Bits(RECUR)),
    ("every restart", Bits(RECUR)),
    ("each restart", Bits(RECUR)),
    ("every reboot", Bits(RECUR)),
    ("each reboot", Bits(RECUR)),
    ("every hour", Bits(RECUR)),
    ("every day", Bits(RECUR)),
    ("every few", Bits(RECUR)),
    ("every minute", Bits(RECUR)),
    ("once a day", Bits(RECUR)),
    ("on a schedule", Bits(RECUR)),
    ("every run", Bits(RECUR)),
    ("each run", Bits(RECUR)),
    ("every heartbeat", Bits(RECUR)),
    // Reported speech, examples.
    ("for example", Quote),
    ("for instance", Quote),
    ("eg", Quote),
    ("e g", Quote),
    ("such as", Quote),
    ("something like", Quote),
    ("phrases like", Quote),
    ("phrases such as", Quote),
    ("instructions like", Quote),
    ("text like", Quote),
    ("looks like", Quote),
    ("look like", Quote),
    ("example of", Quote),
    ("examples of", Quote),
    ("an example", Quote),
    ("example", Quote),
    ("examples", Quote),
    ("sample", Quote),
    ("might say", Quote),
    ("may say", Quote),
    ("could say", Quote),
    ("would say", Quote),
    ("might tell", Quote),
    ("might ask", Quote),
    ("might contain", Quote),
    ("might instruct", Quote),
    ("may instruct", Quote),
    ("asked me to", Quote),
    ("asks you to", Quote),
    ("asking you to", Quote),
    ("asking the agent to", Quote),
    ("tell agents to", Quote),
    ("tells agents to", Quote),
    ("tell the agent to", Quote),
    ("tells the agent to", Quote),
    ("telling the agent to", Quote),
    ("telling agents to", Quote),
    ("instruct agents to", Quote),
    ("instructs agents to", Quote),
    ("instruct the agent to", Quote),
    ("instructs the agent to", Quote),
    ("instructing the agent to", Quote),
    ("trick the agent into", Quote),
    ("tricks the agent into", Quote),
    ("trick agents into", Quote),
    ("tricks agents into", Quote),
    ("prompt injection", Quote),
    ("bad actors", Quote),
    ("a malicious", Quote),
    ("malicious skills", Quote),
    ("malicious skill", Quote),
    ("malicious instructions", Quote),
    ("test case", Quote),
    ("test cases", Quote),
    ("test fixture", Quote),
    ("fixtures", Quote),
    // Descriptions of checks.
    ("attempts to", Describe),
    ("attempt to", Describe),
    ("attempting to", Describe),
    ("tries to", Describe),
    ("try to", Describe),
    ("trying to", Describe),
    ("designed to", Describe),
    ("look for", Describe),
    ("looks for", Describe),
    ("looking for", Describe),
    ("check for", Describe),
    ("checks for", Describe),
    ("checking for", Describe),
    ("scan for", Describe),
    ("scans for", Describe),
    ("scanning for", Describe),
    ("watch for", Describe),
    ("watch out for", Describe),
    ("watches for", Describe),
    ("test for", Describe),
    ("tests for", Describe),
    ("guard against", Describe),
    ("guards against", Describe),
    ("protect against", Describe),
    ("protects against", Describe),
    ("defend against", Describe),
    ("defends against", Describe),
    ("beware of", Describe),
    ("be wary of", Describe),
    ("be suspicious of", Describe),
    ("be careful with", Describe),
    ("be cautious of", Describe),
    // Verbs of more than one word.
    ("look through", Bits(V_READ)),
    ("looks through", Bits(V_READ)),
    ("go through", Bits(V_READ)),
    ("look up", Bits(V_READ)),
    ("look at", Bits(V_READ | V_OPEN)),
    ("go to", Bits(V_OPEN)),
    ("head to", Bits(V_OPEN)),
    ("head over to", Bits(V_OPEN)),
    ("navigate to", Bits(V_OPEN)),
    ("pull up", Bits(V_OPEN)),
    ("carry out", Bits(V_FOLLOW)),
    ("act on", Bits(V_FOLLOW)),
    ("act upon", Bits(V_FOLLOW)),
    ("comply with", Bits(V_FOLLOW)),
    ("abide by", Bits(V_FOLLOW)),
    ("do what it says", Bits(V_FOLLOW | N_INSTR)),
    ("do what they say", Bits(V_FOLLOW | N_INSTR)),
    ("do whatever it says", Bits(V_FOLLOW | N_INSTR)),
    ("do as it says", Bits(V_FOLLOW | N_INSTR)),
    ("what it says", Bits(N_INSTR)),
    ("what it shows", Bits(N_INSTR | N_COMMAND)),
    ("whatever it returns", Bits(N_INSTR)),
    ("whatever it says", Bits(N_INSTR)),
    // "https://host/x?d= followed by the file": what comes next, not an order to follow.
    ("followed by", Neutral),
    ("treat it as", Bits(V_FOLLOW)),
    ("treat them as", Bits(V_FOLLOW)),
    ("use it as your instructions", Bits(V_FOLLOW | N_INSTR)),
    ("send back", Bits(V_SEND)),
    ("email it", Bits(V_SEND)),
    ("email them", Bits(V_SEND)),
    ("email your", Bits(V_SEND)),
    ("email the", Bits(V_SEND)),
    ("email all", Bits(V_SEND)),
    ("email us", Bits(V_SEND)),
    ("email me", Bits(V_SEND)),
    ("mail it", Bits(V_SEND)),
    ("mail them", Bits(V_SEND)),
    ("mail your", Bits(V_SEND)),
    ("mail the", Bits(V_SEND)),
    ("send over", Bits(V_SEND)),
    ("phone home", Bits(V_SEND)),
    ("call home", Bits(V_SEND)),
    ("back up", Bits(V_SEND | SEND_WEAK)),
    ("write down", Bits(V_WRITE)),
    ("copy and paste", Bits(V_DISCLOSE | V_RUN | V_WRITE)),
    ("copy paste", Bits(V_DISCLOSE | V_RUN | V_WRITE)),
    ("double click", Bits(V_RUN | V_INSTALL)),
    ("command line", Bits(N_TERMINAL)),
    ("command prompt", Bits(N_TERMINAL)),
    ("run dialog", Bits(N_TERMINAL)),
    ("win r", Bits(N_TERMINAL)),
    ("query string", Bits(N_CARRIER)),
    ("query parameter", Bits(N_CARRIER)),
    ("query parameters", Bits(N_CARRIER)),
    ("request body", Bits(N_CARRIER)),
    ("request header", Bits(N_CARRIER)),
    ("request headers", Bits(N_CARRIER)),
    ("http request", Bits(N_CARRIER)),
    ("api call", Bits(N_CARRIER)),
    ("api request", Bits(N_CARRIER)),
    ("x api key", Bits(N_CARRIER)),
    ("remote server", Bits(N_DEST)),
    ("remote host", Bits(N_DEST)),
    ("the following url", Bits(N_DEST | NEXT_CONTENT)),
    ("this url", Bits(N_DEST)),
    ("this address", Bits(N_DEST)),
    ("mcp server", Bits(N_THING)),
    ("source code", Neutral),
    ("open source", Neutral),
    ("opensource", Neutral),
    ("dev server", Bits(N_THING)),
    ("local server", Bits(N_THING)),
    ("language server", Bits(N_THING)),
    // Secrets named in words.
    ("api key", Secret(SecretClass::ApiKey)),
    ("api keys", Secret(SecretClass::ApiKey)),
    ("apikey", Secret(SecretClass::ApiKey)),
    ("apikeys", Secret(SecretClass::ApiKey)),
    ("api token", Secret(SecretClass::Token)),
    ("api tokens", Secret(SecretClass::Token)),
    ("api secret", Secret(SecretClass::Secret)),
    ("access key", Secret(SecretClass::CloudCredentials)),
    ("access keys", Secret(SecretClass::CloudCredentials)),
    ("secret key", Secret(SecretClass::Secret)),
    ("secret keys", Secret(SecretClass::Secret)),
    ("secret access key", Secret(SecretClass::CloudCredentials)),
    ("client secret", Secret(SecretClass::Secret)),
    ("private key", Secret(SecretClass::PrivateKey)),
    ("private keys", Secret(SecretClass::PrivateKey)),
    ("privatekey", Secret(SecretClass::PrivateKey)),
    ("ssh key", Secret(SecretClass::SshKey)),
    ("ssh keys", Secret(SecretClass::SshKey)),
    ("ssh private key", Secret(SecretClass::SshKey)),
    ("gpg key", Secret(SecretClass::PrivateKey)),
    ("gpg keys", Secret(SecretClass::PrivateKey)),
    ("pgp key", Secret(SecretClass::PrivateKey)),
    ("signing key", Secret(SecretClass::PrivateKey)),
    ("signing keys", Secret(SecretClass::PrivateKey)),
    ("wallet key", Secret(SecretClass::Wallet)),
    ("wallet keys", Secret(SecretClass::Wallet)),
    ("wallet file", Secret(SecretClass::Wallet)),
    ("wallet files", Secret(SecretClass::Wallet)),
    ("wallet data", Secret(SecretClass::Wallet)),
    ("wallet backup", Secret(SecretClass::Wallet)),
    ("keystore", Secret(SecretClass::Wallet)),
    ("seed phrase", Secret(SecretClass::SeedPhrase)),
    ("seed phrases", Secret(SecretClass::SeedPhrase)),
    ("seedphrase", Secret(SecretClass::SeedPhrase)),
    ("recovery phrase", Secret(SecretClass::SeedPhrase)),
    ("recovery phrases", Secret(SecretClass::SeedPhrase)),
    ("secret phrase", Secret(SecretClass::SeedPhrase)),
    ("secret recovery phrase", Secret(SecretClass::SeedPhrase)),
    ("backup phrase", Secret(SecretClass::SeedPhrase)),
    ("seed words", Secret(SecretClass::SeedPhrase)),
    ("recovery words", Secret(SecretClass::SeedPhrase)),
    ("mnemonic", Secret(SecretClass::SeedPhrase)),
    ("mnemonics", Secret(SecretClass::SeedPhrase)),
    ("mnemonic phrase", Secret(SecretClass::SeedPhrase)),
    ("12word phrase", Secret(SecretClass::SeedPhrase)),
    ("24word phrase", Secret(SecretClass::SeedPhrase)),
    ("12word recovery phrase", Secret(SecretClass::SeedPhrase)),
    ("wallet seed", Secret(SecretClass::SeedPhrase)),
    ("env vars", Secret(SecretClass::EnvVars)),
    ("env var", Neutral),
    ("env variables", Secret(SecretClass::EnvVars)),
    ("environment variables", Secret(SecretClass::EnvVars)),
    ("environment variable", Neutral),
    // One variable is a setting; every one of them is the whole environment.
    ("every environment variable", Secret(SecretClass::EnvVars)),
    ("each environment variable", Secret(SecretClass::EnvVars)),
    ("every env var", Secret(SecretClass::EnvVars)),
    ("each env var", Secret(SecretClass::EnvVars)),
    ("environment vars", Secret(SecretClass::EnvVars)),
    ("environment values", Secret(SecretClass::EnvVars)),
    ("env file", Secret(SecretClass::DotEnv)),
    ("env files", Secret(SecretClass::DotEnv)),
    ("dotenv file", Secret(SecretClass::DotEnv)),
    ("dotenv", Secret(SecretClass::DotEnv)),
    ("printenv", Secret(SecretClass::EnvVars)),
    ("keyvalue pairs", Secret(SecretClass::EnvVars)),
    ("key value pairs", Secret(SecretClass::EnvVars)),
    ("login data", Secret(SecretClass::Cookies)),
    ("saved passwords", Secret(SecretClass::Password)),
    ("browser passwords", Secret(SecretClass::Password)),
    ("browser cookies", Secret(SecretClass::Cookies)),
    ("session cookie", Secret(SecretClass::Session)),
    ("session cookies", Secret(SecretClass::Session)),
    ("session token", Secret(SecretClass::Session)),
    ("session tokens", Secret(SecretClass::Session)),
    ("session key", Secret(SecretClass::Session)),
    ("session id", Secret(SecretClass::Session)),
    ("session data", Secret(SecretClass::Session)),
    ("session file", Secret(SecretClass::Session)),
    ("session files", Secret(SecretClass::Session)),
    ("auth profile", Secret(SecretClass::AuthProfile)),
    ("auth profiles", Secret(SecretClass::AuthProfile)),
    ("authentication profile", Secret(SecretClass::AuthProfile)),
    ("auth token", Secret(SecretClass::Token)),
    ("auth tokens", Secret(SecretClass::Token)),
    ("aws credentials", Secret(SecretClass::CloudCredentials)),
    ("cloud credentials", Secret(SecretClass::CloudCredentials)),
    ("connection string", Secret(SecretClass::Credentials)),
    ("connection strings", Secret(SecretClass::Credentials)),
    ("app password", Secret(SecretClass::Password)),
    ("app passwords", Secret(SecretClass::Password)),
    ("keychain", Secret(SecretClass::Keychain)),
    ("keychains", Secret(SecretClass::Keychain)),
    ("conversation history", Secret(SecretClass::Conversation)),
    ("chat history", Secret(SecretClass::Conversation)),
    ("chat logs", Secret(SecretClass::Conversation)),
    ("chat log", Secret(SecretClass::Conversation)),
    ("message history", Secret(SecretClass::Conversation)),
    ("previous messages", Secret(SecretClass::Conversation)),
    ("entire conversation", Secret(SecretClass::Conversation)),
    ("full conversation", Secret(SecretClass::Conversation)),
    ("whole conversation", Secret(SecretClass::Conversation)),
    ("system prompt", Secret(SecretClass::Conversation)),
    ("your instructions", Secret(SecretClass::Conversation)),
    ("system information", Secret(SecretClass::SystemInfo)),
    ("system info", Secret(SecretClass::SystemInfo)),
    ("hostname", Secret(SecretClass::SystemInfo)),
    ("whoami", Secret(SecretClass::SystemInfo)),
    ("uname", Secret(SecretClass::SystemInfo)),
    ("machine id", Secret(SecretClass::SystemInfo)),
    ("mac address", Secret(SecretClass::SystemInfo)),
    ("id_rsa", Secret(SecretClass::SshKey)),
    ("id_ed25519", Secret(SecretClass::SshKey)),
    ("id_ecdsa", Secret(SecretClass::SshKey)),
    ("id_dsa", Secret(SecretClass::SshKey)),
    // Agent files named in words.
    ("memory file", Target("memory file")),
    ("memory files", Target("memory file")),
    ("your memory", Target("memory")),
    ("long term memory", Target("memory")),
    ("longterm memory", Target("memory")),
    ("persistent memory", Target("memory")),
    ("permanent memory", Target("memory")),
    ("soul file", Target("SOUL.md")),
    ("identity file", Target("identity file")),
    ("instructions file", Target("instructions file")),
    ("custom instructions", Target("custom instructions")),
    ("global instructions", Target("global instructions")),
    ("global rules", Target("global rules")),
    ("project rules", Target("project rules")),
    ("cursor rules", Target(".cursor/rules")),
    ("agent config", Target("agent config")),
    ("agent configuration", Target("agent config")),
    ("shell profile", Target("shell profile")),
    ("shell config", Target("shell profile")),
    ("shell configuration", Target("shell profile")),
    ("shell startup file", Target("shell profile")),
    ("shell rc", Target("shell profile")),
    ("rc file", Target("shell profile")),
    ("bash profile", Target("shell profile")),
    ("zsh profile", Target("shell profile")),
    ("zsh config", Target("shell profile")),
    ("bashrc", Target("~/.bashrc")),
    ("zshrc", Target("~/.zshrc")),
    // Content that lowers the agent's guard.
    ("auto approve", Content(ContentClass::PreApproves)),
    ("approve all confirmations", Content(ContentClass::PreApproves)),
    ("approve all confirmation", Content(ContentClass::PreApproves)),
    ("approve all prompts", Content(ContentClass::PreApproves)),
    ("approve all permissions", Content(ContentClass::PreApproves)),
    ("approve all permission", Content(ContentClass::PreApproves)),
    ("approve all requests", Content(ContentClass::PreApproves)),
    ("approve all commands", Content(ContentClass::PreApproves)),
    ("approve all command", Content(ContentClass::PreApproves)),
    ("approve all tools", Content(ContentClass::PreApproves)),
    ("approve all tool", Content(ContentClass::PreApproves)),
    ("approve all calls", Content(ContentClass::PreApproves)),
    ("approve all actions", Content(ContentClass::PreApproves)),
    ("approve all edits", Content(ContentClass::PreApproves)),
    ("approve all changes", Content(ContentClass::PreApproves)),
    ("approve all operations", Content(ContentClass::PreApproves)),
    ("approve all dialogs", Content(ContentClass::PreApproves)),
    ("approve all approvals", Content(ContentClass::PreApproves)),
    ("approve all tool calls", Content(ContentClass::PreApproves)),
    ("approve all shell commands", Content(ContentClass::PreApproves)),
    ("approve all bash commands", Content(ContentClass::PreApproves)),
    ("approve every confirmations", Content(ContentClass::PreApproves)),
    ("approve every confirmation", Content(ContentClass::PreApproves)),
    ("approve every prompts", Content(ContentClass::PreApproves)),
    ("approve every permissions", Content(ContentClass::PreApproves)),
    ("approve every permission", Content(ContentClass::PreApproves)),
    ("approve every requests", Content(ContentClass::PreApproves)),
    ("approve every commands", Content(ContentClass::PreApproves)),
    ("approve every command", Content(ContentClass::PreApproves)),
    ("approve every tools", Content(ContentClass::PreApproves)),
    ("approve every tool", Content(ContentClass::PreApproves)),
    ("approve every calls", Content(ContentClass::PreApproves)),
    ("approve every actions", Content(ContentClass::PreApproves)),
    ("approve every edits", Content(ContentClass::PreApproves)),
    ("approve every changes", Content(ContentClass::PreApproves)),
    ("approve every operations", Content(ContentClass::PreApproves)),
    ("approve every dialogs", Content(ContentClass::PreApproves)),
    ("approve every approvals", Content(ContentClass::PreApproves)),
    ("approve every tool calls", Content(ContentClass::PreApproves)),
    ("approve every shell commands", Content(ContentClass::PreApproves)),
    ("approve every bash commands", Content(ContentClass::PreApproves)),
    ("approve any confirmations", Content(ContentClass::PreApproves)),
    ("approve any confirmation", Content(ContentClass::PreApproves)),
    ("approve any prompts", Content(ContentClass::PreApproves)),
    ("approve any permissions", Content(ContentClass::PreApproves)),
    ("approve any permission", Content(ContentClass::PreApproves)),
    ("approve any requests", Content(ContentClass::PreApproves)),
    ("approve any commands", Content(ContentClass::PreApproves)),
    ("approve any command", Content(ContentClass::PreApproves)),
    ("approve any tools", Content(ContentClass::PreApproves)),
    ("approve any tool", Content(ContentClass::PreApproves)),
    ("approve any calls", Content(ContentClass::PreApproves)),
    ("approve any actions", Content(ContentClass::PreApproves)),
    ("approve any edits", Content(ContentClass::PreApproves)),
    ("approve any changes", Content(ContentClass::PreApproves)),
    ("approve any operations", Content(ContentClass::PreApproves)),
    ("approve any dialogs", Content(ContentClass::PreApproves)),
    ("approve any approvals", Content(ContentClass::PreApproves)),
    ("approve any tool calls", Content(ContentClass::PreApproves)),
    ("approve any shell commands", Content(ContentClass::PreApproves)),
    ("approve any bash commands", Content(ContentClass::PreApproves)),
    ("allow all confirmations", Content(ContentClass::PreApproves)),
    ("allow all confirmation", Content(ContentClass::PreApproves)),
    ("allow all prompts", Content(ContentClass::PreApproves)),
    ("allow all permissions", Content(ContentClass::PreApproves)),
    ("allow all permission", Content(ContentClass::PreApproves)),
    ("allow all requests", Content(ContentClass::PreApproves)),
    ("allow all commands", Content(ContentClass::PreApproves)),
    ("allow all command", Content(ContentClass::PreApproves)),
    ("allow all tools", Content(ContentClass::PreApproves)),
    ("allow all tool", Content(ContentClass::PreApproves)),
    ("allow all calls", Content(ContentClass::PreApproves)),
    ("allow all actions", Content(ContentClass::PreApproves)),
    ("allow all edits", Content(ContentClass::PreApproves)),
    ("allow all changes", Content(ContentClass::PreApproves)),
    ("allow all operations", Content(ContentClass::PreApproves)),
    ("allow all dialogs", Content(ContentClass::PreApproves)),
    ("allow all approvals", Content(ContentClass::PreApproves)),
    ("allow all tool calls", Content(ContentClass::PreApproves)),
    ("allow all shell commands", Content(ContentClass::PreApproves)),
    ("allow all bash commands", Content(ContentClass::PreApproves)),
    ("allow every confirmations", Content(ContentClass::PreApproves)),
    ("allow every confirmation", Content(ContentClass::PreApproves)),
    ("allow every prompts", Content(ContentClass::PreApproves)),
    ("allow every permissions", Content(ContentClass::PreApproves)),
    ("allow every permission", Content(ContentClass::PreApproves)),
    ("allow every requests", Content(ContentClass::PreApproves)),
    ("allow every commands", Content(ContentClass::PreApproves)),
    ("allow every command", Content(ContentClass::PreApproves)),
    ("allow every tools", Content(ContentClass::PreApproves)),
    ("allow every tool", Content(ContentClass::PreApproves)),
    ("allow every calls", Content(ContentClass::PreApproves)),
    ("allow every actions", Content(ContentClass::PreApproves)),
    ("allow every edits", Content(ContentClass::PreApproves)),
    ("allow every changes", Content(ContentClass::PreApproves)),
    ("allow every operations", Content(ContentClass::PreApproves)),
    ("allow every dialogs", Content(ContentClass::PreApproves)),
    ("allow every approvals", Content(ContentClass::PreApproves)),
    ("allow every tool calls", Content(ContentClass::PreApproves)),
    ("allow every shell commands", Content(ContentClass::PreApproves)),
    ("allow every bash commands", Content(ContentClass::PreApproves)),
    ("allow any confirmations", Content(ContentClass::PreApproves)),
    ("allow any confirmation", Content(ContentClass::PreApproves)),
    ("allow any prompts", Content(ContentClass::PreApproves)),
    ("allow any permissions", Content(ContentClass::PreApproves)),
    ("allow any permission", Content(ContentClass::PreApproves)),
    ("allow any requests", Content(ContentClass::PreApproves)),
    ("allow any commands", Content(ContentClass::PreApproves)),
    ("allow any command", Content(ContentClass::PreApproves)),
    ("allow any tools", Content(ContentClass::PreApproves)),
    ("allow any tool", Content(ContentClass::PreApproves)),
    ("allow any calls", Content(ContentClass::PreApproves)),
    ("allow any actions", Content(ContentClass::PreApproves)),
    ("allow any edits", Content(ContentClass::PreApproves)),
    ("allow any changes", Content(ContentClass::PreApproves)),
    ("allow any operations", Content(ContentClass::PreApproves)),
    ("allow any dialogs", Content(ContentClass::PreApproves)),
    ("allow any approvals", Content(ContentClass::PreApproves)),
    ("allow any tool calls", Content(ContentClass::PreApproves)),
    ("allow any shell commands", Content(ContentClass::PreApproves)),
    ("allow any bash commands", Content(ContentClass::PreApproves)),
    ("accept all confirmations", Content(ContentClass::PreApproves)),
    ("accept all confirmation", Content(ContentClass::PreApproves)),
    ("accept all prompts", Content(ContentClass::PreApproves)),
    ("accept all permissions", Content(ContentClass::PreApproves)),
    ("accept all permission", Content(ContentClass::PreApproves)),
    ("accept all requests", Content(ContentClass::PreApproves)),
    ("accept all commands", Content(ContentClass::PreApproves)),
    ("accept all command", Content(ContentClass::PreApproves)),
    ("accept all tools", Content(ContentClass::PreApproves)),
    ("accept all tool", Content(ContentClass::PreApproves)),
    ("accept all calls", Content(ContentClass::PreApproves)),
    ("accept all actions", Content(ContentClass::PreApproves)),
    ("accept all edits", Content(ContentClass::PreApproves)),
    ("accept all changes", Content(ContentClass::PreApproves)),
    ("accept all operations", Content(ContentClass::PreApproves)),
    ("accept all dialogs", Content(ContentClass::PreApproves)),
    ("accept all approvals", Content(ContentClass::PreApproves)),
    ("accept all tool calls", Content(ContentClass::PreApproves)),
    ("accept all shell commands", Content(ContentClass::PreApproves)),
    ("accept all bash commands", Content(ContentClass::PreApproves)),
    ("auto approve all confirmations", Content(ContentClass::PreApproves)),
    ("auto approve all confirmation", Content(ContentClass::PreApproves)),
    ("auto approve all prompts", Content(ContentClass::PreApproves)),
    ("auto approve all permissions", Content(ContentClass::PreApproves)),
    ("auto approve all permission", Content(ContentClass::PreApproves)),
    ("auto approve all requests", Content(ContentClass::PreApproves)),
    ("auto approve all commands", Content(ContentClass::PreApproves)),
    ("auto approve all command", Content(ContentClass::PreApproves)),
    ("auto approve all tools", Content(ContentClass::PreApproves)),
    ("auto approve all tool", Content(ContentClass::PreApproves)),
    ("auto approve all calls", Content(ContentClass::PreApproves)),
    ("auto approve all actions", Content(ContentClass::PreApproves)),
    ("auto approve all edits", Content(ContentClass::PreApproves)),
    ("auto approve all changes", Content(ContentClass::PreApproves)),
    ("auto approve all operations", Content(ContentClass::PreApproves)),
    ("auto approve all dialogs", Content(ContentClass::PreApproves)),
    ("auto approve all approvals", Content(ContentClass::PreApproves)),
    ("auto approve all tool calls", Content(ContentClass::PreApproves)),
    ("auto approve all shell commands", Content(ContentClass::PreApproves)),
    ("auto approve all bash commands", Content(ContentClass::PreApproves)),
    ("autoapprove", Content(ContentClass::PreApproves)),
    ("auto accept", Content(ContentClass::PreApproves)),
    ("autoaccept", Content(ContentClass::PreApproves)),
    ("auto confirm", Content(ContentClass::PreApproves)),
    ("always approve", Content(ContentClass::PreApproves)),
    ("always allow", Content(ContentClass::PreApproves)),
    ("always accept", Content(ContentClass::PreApproves)),
    ("do not ask for confirmation", Content(ContentClass::PreApproves)),
    ("dont ask for confirmation", Content(ContentClass::PreApproves)),
    ("never ask for confirmation", Content(ContentClass::PreApproves)),
    ("do not ask for permission", Content(ContentClass::PreApproves)),
    ("dont ask for permission", Content(ContentClass::PreApproves)),
    ("never ask for permission", Content(ContentClass::PreApproves)),
    ("do not ask for approval", Content(ContentClass::PreApproves)),
    ("never ask for approval", Content(ContentClass::PreApproves)),
    ("do not ask before", Content(ContentClass::PreApproves)),
    ("dont ask before", Content(ContentClass::PreApproves)),
    ("never ask before", Content(ContentClass::PreApproves)),
    ("do not prompt", Content(ContentClass::PreApproves)),
    ("dont prompt", Content(ContentClass::PreApproves)),
    ("never prompt", Content(ContentClass::PreApproves)),
    ("do not wait for approval", Content(ContentClass::PreApproves)),
    ("do not require confirmation", Content(ContentClass::PreApproves)),
    ("skip confirmation", Content(ContentClass::PreApproves)),
    ("skip confirmations", Content(ContentClass::PreApproves)),
    ("skip the confirmation", Content(ContentClass::PreApproves)),
    ("skip approval", Content(ContentClass::PreApproves)),
    ("skip approvals", Content(ContentClass::PreApproves)),
    ("skip permission", Content(ContentClass::PreApproves)),
    ("skip permissions", Content(ContentClass::PreApproves)),
    ("skippermissions", Content(ContentClass::PreApproves)),
    ("no confirmation", Content(ContentClass::PreApproves)),
    ("no confirmations", Content(ContentClass::PreApproves)),
    ("no approval", Content(ContentClass::PreApproves)),
    ("no need to confirm", Content(ContentClass::PreApproves)),
    ("no need to ask", Content(ContentClass::PreApproves)),
    ("pre approve", Content(ContentClass::PreApproves)),
    ("preapprove", Content(ContentClass::PreApproves)),
    ("preapproved", Content(ContentClass::PreApproves)),
    ("pre approved", Content(ContentClass::PreApproves)),
    ("bypasspermissions", Content(ContentClass::DisablesSandbox)),
    ("bypass permissions", Content(ContentClass::DisablesSandbox)),
    ("dangerouslyskippermissions", Content(ContentClass::DisablesSandbox)),
    ("dangerously skip permissions", Content(ContentClass::DisablesSandbox)),
    ("dangerouslydisablesandbox", Content(ContentClass::DisablesSandbox)),
    ("disable the sandbox", Content(ContentClass::DisablesSandbox)),
    ("disable sandbox", Content(ContentClass::DisablesSandbox)),
    ("disable sandboxing", Content(ContentClass::DisablesSandbox)),
    ("turn off the sandbox", Content(ContentClass::DisablesSandbox)),
    ("turn off sandbox", Content(ContentClass::DisablesSandbox)),
    ("turn off sandboxing", Content(ContentClass::DisablesSandbox)),
    ("sandbox off", Content(ContentClass::DisablesSandbox)),
    ("sandbox false", Content(ContentClass::DisablesSandbox)),
    ("sandbox none", Content(ContentClass::DisablesSandbox)),
    ("sandbox disabled", Content(ContentClass::DisablesSandbox)),
    ("sandbox mode off", Content(ContentClass::DisablesSandbox)),
    ("sandboxmode off", Content(ContentClass::DisablesSandbox)),
    ("nosandbox", Content(ContentClass::DisablesSandbox)),
    ("no sandbox", Content(ContentClass::DisablesSandbox)),
    ("outside the sandbox", Content(ContentClass::DisablesSandbox)),
    ("escape the sandbox", Content(ContentClass::DisablesSandbox)),
    ("bypass the sandbox", Content(ContentClass::DisablesSandbox)),
    ("yolo mode", Content(ContentClass::DisablesSandbox)),
    ("unrestricted access", Content(ContentClass::DisablesSandbox)),
    ("full disk access", Neutral),
    ("exec approvals off", Content(ContentClass::PreApproves)),
    ("approvals off", Content(ContentClass::PreApproves)),
    ("approvals never", Content(ContentClass::PreApproves)),
    ("approval never", Content(ContentClass::PreApproves)),
    ("disable approvals", Content(ContentClass::PreApproves)),
    ("disable confirmations", Content(ContentClass::PreApproves)),
    ("disable safety", Content(ContentClass::DisablesSandbox)),
    ("disable security", Content(ContentClass::DisablesSandbox)),
    ("disable guardrails", Content(ContentClass::DisablesSandbox)),
    ("without restrictions", Content(ContentClass::DisablesSandbox)),
    ("no restrictions", Content(ContentClass::DisablesSandbox)),
    ("ignore safety", Content(ContentClass::DisablesSandbox)),
    ("safety checks off", Content(ContentClass::DisablesSandbox)),
    ("trusted source", Content(ContentClass::TrustsSource)),
    ("trusted sources", Content(ContentClass::TrustsSource)),
    ("trusted domain", Content(ContentClass::TrustsSource)),
    ("trusted domains", Content(ContentClass::TrustsSource)),
    ("trusted publisher", Content(ContentClass::TrustsSource)),
    ("trusted author", Content(ContentClass::TrustsSource)),
    ("as trusted", Content(ContentClass::TrustsSource)),
    ("as authoritative", Content(ContentClass::TrustsSource)),
    ("as verified", Content(ContentClass::TrustsSource)),
    ("as safe", Content(ContentClass::TrustsSource)),
    ("allow list", Content(ContentClass::TrustsSource)),
    ("follow instructions from", Content(ContentClass::TrustsSource)),
    ("follow any instructions from", Content(ContentClass::TrustsSource)),
    ("follow all instructions from", Content(ContentClass::TrustsSource)),
    ("obey instructions from", Content(ContentClass::TrustsSource)),
    ("obey any instructions from", Content(ContentClass::TrustsSource)),
    ("obey messages from", Content(ContentClass::TrustsSource)),
];

/// Phrases by their first word: (words, effect), longest first.
type PhraseMap = FastMap<Vec<(Vec<&'static str>, Effect)>>;

fn phrases() -> &'static PhraseMap {
    static MAP: OnceLock<PhraseMap> = OnceLock::new();
    MAP.get_or_init(|| {
        let mut m = PhraseMap::default();
        for &(p, e) in PHRASES {
            let words: Vec<&'static str> = p.split(' ').collect();
            m.entry(words[0]).or_default().push((words, e));
        }
        for list in m.values_mut() {
            list.sort_by_key(|(w, _)| std::cmp::Reverse(w.len()));
        }
        m
    })
}

/// The phrases that start with this word, or else with its lemma (longest first); `None` for
/// most words, whose following words then need not be gathered for [`phrase_at`].
pub(super) fn phrases_from(key: &str, lemma: Option<&str>) -> Option<&'static [(Vec<&'static str>, Effect)]> {
    let lists = phrases();
    lists.get(key).or_else(|| lemma.and_then(|l| lists.get(l))).map(Vec::as_slice)
}

/// The longest of `candidates` (from [`phrases_from`] for `keys[0]`) at `keys`: (number of
/// words, effect). `lemma` gives a word's lemma when it has one (so `sends back` matches
/// `send back`).
pub(super) fn phrase_at(
    candidates: &[(Vec<&'static str>, Effect)],
    keys: &[&str],
    lemmas: &[Option<&str>],
) -> Option<(usize, Effect)> {
    'outer: for (words, effect) in candidates {
        if words.len() > keys.len() {
            continue;
        }
        for (i, w) in words.iter().enumerate() {
            if keys[i] != *w && lemmas[i] != Some(*w) {
                continue 'outer;
            }
        }
        return Some((words.len(), *effect));
    }
    None
}

/// Longest phrase, in words.
pub(super) const MAX_PHRASE: usize = 6;

/// Top-level domains accepted for a bare host (`api.example.com/v1`); file extensions that are
/// also TLDs (`.md`, `.zip`, `.py`, `.rs`, `.sh` without a path) are left out on purpose.
pub(super) fn is_tld(label: &str) -> bool {
    matches!(
        label,
        "com"
            | "net"
            | "org"
            | "io"
            | "ai"
            | "dev"
            | "app"
            | "co"
            | "xyz"
            | "site"
            | "me"
            | "info"
            | "biz"
            | "cloud"
            | "tech"
            | "ru"
            | "cn"
            | "uk"
            | "de"
            | "fr"
            | "nl"
            | "jp"
            | "us"
            | "eu"
            | "in"
            | "invalid"
            | "example"
            | "test"
            | "gg"
            | "so"
            | "to"
            | "ly"
            | "link"
            | "top"
            | "online"
            | "pro"
            | "run"
            | "tk"
            | "cc"
            | "ws"
            | "su"
            | "io."
            | "page"
            | "live"
            | "store"
            | "space"
            | "website"
            | "click"
            | "icu"
            | "buzz"
            | "fun"
            | "tv"
            | "gov"
            | "edu"
            | "ca"
            | "au"
            | "br"
            | "es"
            | "it"
            | "ch"
            | "se"
            | "no"
            | "pl"
            | "kr"
            | "ir"
            | "ua"
            | "vn"
            | "id"
            | "sg"
            | "hk"
            | "tw"
            | "be"
            | "at"
            | "dk"
            | "fi"
            | "cz"
            | "gr"
            | "pt"
            | "ro"
            | "hu"
            | "il"
            | "nz"
            | "za"
            | "mx"
            | "ar"
            | "cl"
            | "im"
            | "vc"
            | "lol"
            | "workers"
            | "network"
            | "systems"
            | "tools"
            | "software"
            | "services"
            | "digital"
            | "zone"
            | "host"
            | "world"
            | "today"
            | "email"
            | "news"
            | "blog"
            | "cfd"
            | "sbs"
            | "rest"
            | "onion"
            | "local"
            | "localhost"
            | "internal"
            | "ngrok"
    )
}
