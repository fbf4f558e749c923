//! What counts as a secret, and whose it is.
//!
//! A secret is a taint source of the dataflow analysis: an environment variable whose name says
//! it holds a credential (`*_TOKEN`, `*_API_KEY`, `*_SECRET`, `PASSWORD`…), a credential file
//! (`~/.ssh/id_*`, `~/.aws/credentials`…), the whole environment serialised, a wallet or the
//! clipboard. Each secret has an owner — the service it belongs to — so the analysis can tell a
//! key sent to its own API (use) from a key sent anywhere else (theft).

use std::fmt;

use crate::engine::corroborate::registrable;
use crate::engine::rules::Services;

/// Where a secret comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SecretKind {
    /// An environment variable read by name (`os.environ["GITHUB_TOKEN"]`, `$NPM_TOKEN`).
    EnvVar,
    /// A credential file or store (`~/.ssh/id_rsa`, `~/.aws/credentials`, a keychain dump).
    CredentialFile,
    /// The whole environment, serialised (`dict(os.environ)`, `env |`).
    Environment,
    /// The clipboard (wallet addresses, copied passwords).
    Clipboard,
    /// The user's files listed in bulk: a recursive listing of the working folder or the home
    /// folder (`glob("**/*.py")`, `os.walk(".")`, `Path.home().rglob("*")`, `git ls-files`),
    /// whose contents the code reads. Nobody's credential, but the user's work: it has no
    /// business going to a host that is neither a known service nor the skill's own.
    Workspace,
}

/// The service a secret belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Owner {
    /// A service of `rules/services.toml`, by name.
    Service(String),
    /// A service the table does not know, by the distinctive word of the variable's name
    /// (`acmeweather` for `ACMEWEATHER_API_KEY`): its hosts are expected to carry that word.
    Named(String),
    /// Nobody in particular (`API_KEY`, `TOKEN`, a credential file of no service, the whole
    /// environment).
    Unknown,
}

/// A secret a piece of code reads.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Secret {
    pub kind: SecretKind,
    /// The variable name, or the path/expression as written.
    pub name: String,
    pub owner: Owner,
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.owner {
            Owner::Service(service) => write!(f, "{} ({service})", self.name),
            Owner::Named(word) => write!(f, "{} ({word})", self.name),
            Owner::Unknown => write!(f, "{}", self.name),
        }
    }
}

/// Words that make an environment variable a credential.
const SECRET_WORDS: &[&str] = &[
    "TOKEN",
    "TOKENS",
    "KEY",
    "APIKEY",
    "SECRET",
    "SECRETS",
    "PASSWORD",
    "PASSWD",
    "PASS",
    "PWD",
    "PAT",
    "CREDENTIAL",
    "CREDENTIALS",
    "CREDS",
    "COOKIE",
    "SESSION",
    "MNEMONIC",
    "PRIVKEY",
    "JWT",
    "BEARER",
    "AUTH",
];

/// Final words that make the variable *about* a credential without holding one
/// (`GITHUB_TOKEN_URL`, `AWS_ACCESS_KEY_ID`, `SSH_KEY_PATH`).
/// Words that make `TOKEN` a crypto asset (`BUY_TOKEN`, `SRC_TOKEN`, `REWARD_TOKEN`), not a credential.
const ASSET_WORDS: &[&str] = &[
    "BUY",
    "SELL",
    "SRC",
    "SOURCE",
    "DST",
    "DEST",
    "DESTINATION",
    "FROM",
    "TO",
    "IN",
    "OUT",
    "INPUT",
    "OUTPUT",
    "BASE",
    "QUOTE",
    "FEE",
    "SWAP",
    "NATIVE",
    "WRAPPED",
    "STABLE",
    "REWARD",
    "TARGET",
    "ERC20",
    "SPL",
    "PAY",
    "PAYMENT",
    "COLLATERAL",
    "DEBT",
    "LP",
    "GAS",
    "BRIDGE",
    "USDC",
    "USDT",
    "WETH",
    "WSOL",
];

const NOT_SECRET_ENDINGS: &[&str] = &[
    "ADDRESS",
    "ADDR",
    "MINT",
    "CONTRACT",
    "SYMBOL",
    "DECIMALS",
    "AMOUNT",
    "PRICE",
    "SUPPLY",
    "BALANCE",
    "ID",
    "IDS",
    "URL",
    "URI",
    "URLS",
    "PATH",
    "FILE",
    "DIR",
    "NAME",
    "TYPE",
    "EXPIRY",
    "EXPIRES",
    "EXPIRATION",
    "TTL",
    "LENGTH",
    "LEN",
    "HEADER",
    "PREFIX",
    "ENDPOINT",
    "HOST",
    "PORT",
    "REGION",
    "SIZE",
    "MODE",
    "FORMAT",
    "VERSION",
    "ENABLED",
    "REQUIRED",
    "COUNT",
    "LIMIT",
    "TIMEOUT",
    "ALGORITHM",
    "ALG",
    "SCOPE",
    "SCOPES",
    "FIELD",
    "PARAM",
];

/// Words of a variable name that say nothing about whose it is.
const GENERIC_WORDS: &[&str] = &[
    "API",
    "ACCESS",
    "REFRESH",
    "CLIENT",
    "APP",
    "APPLICATION",
    "BOT",
    "USER",
    "SERVICE",
    "ACCOUNT",
    "PRIVATE",
    "PUBLIC",
    "PERSONAL",
    "SECRET",
    "SECRETS",
    "TOKEN",
    "TOKENS",
    "KEY",
    "APIKEY",
    "PASSWORD",
    "PASSWD",
    "PASS",
    "PWD",
    "PAT",
    "AUTH",
    "BEARER",
    "CREDENTIAL",
    "CREDENTIALS",
    "CREDS",
    "SESSION",
    "COOKIE",
    "MY",
    "THE",
    "DEFAULT",
    "PROD",
    "PRODUCTION",
    "DEV",
    "TEST",
    "STAGING",
    "LIVE",
    "MASTER",
    "ADMIN",
    "ROOT",
    "DB",
    "DATABASE",
    "SIGNING",
    "WEBHOOK",
    "OAUTH",
    "OAUTH2",
    "JWT",
    "ENCRYPTION",
    "SHARED",
    "GLOBAL",
    "LOCAL",
    "REMOTE",
    "SERVER",
    "HTTP",
    "HTTPS",
    "REST",
    "V1",
    "V2",
    "V3",
    "ID",
    "SEED",
    "MNEMONIC",
    "PRIVKEY",
    "SIGNATURE",
    "ORG",
    "TEAM",
    "PROJECT",
    "WORKSPACE",
    "INTEGRATION",
];

fn words(name: &str) -> Vec<String> {
    name.split(['_', '-']).filter(|w| !w.is_empty()).map(|w| w.to_ascii_uppercase()).collect()
}

/// Whether an environment variable's name says it holds a credential.
pub fn is_secret_env_name(name: &str) -> bool {
    let words = words(name);
    let Some(last) = words.last() else { return false };
    // A lone plural (`TOKENS`, `KEYS`) is a count or a list of names in scripts: the token
    // budget of a model, the keys of a map.
    if words.len() == 1 && matches!(last.as_str(), "TOKENS" | "KEYS") {
        return false;
    }
    if NOT_SECRET_ENDINGS.contains(&last.as_str()) {
        return false;
    }
    // `GITHUB_TOKEN`, `OPENAI_API_KEY`, `PASSWORD`; also `APIKEY`-style glued names.
    // `BUY_TOKEN`, `SRC_TOKEN`: a token to trade, not to authenticate with.
    let only_token = words.iter().filter(|w| SECRET_WORDS.contains(&w.as_str())).all(|w| w == "TOKEN" || w == "TOKENS");
    if only_token && words.iter().any(|w| ASSET_WORDS.contains(&w.as_str())) {
        return false;
    }
    // A seed is a secret only as a wallet's seed phrase; `RANDOM_SEED` feeds an RNG.
    let seed_phrase = words.iter().any(|w| w == "SEED") && words.iter().any(|w| w == "PHRASE" || w == "WORDS");
    seed_phrase
        || words.iter().any(|w| SECRET_WORDS.contains(&w.as_str()))
        || words.iter().any(|w| w.ends_with("APIKEY") || w.ends_with("TOKEN") || w.ends_with("SECRET"))
}

/// The owner of a secret environment variable.
pub fn owner_of_env(name: &str, services: &Services) -> Owner {
    let words = words(name);
    // Runs of words first (`HUGGING_FACE_HUB_TOKEN`), longest first, then single words.
    for len in (1..=words.len().min(3)).rev() {
        for start in 0..=words.len() - len {
            let run = words[start..start + len].join("_");
            if let Some(service) = services.by_env_word(&run) {
                return Owner::Service(service.name.clone());
            }
        }
    }
    let distinctive: Vec<&String> =
        words.iter().filter(|w| !GENERIC_WORDS.contains(&w.as_str()) && w.len() >= 3).collect();
    // Every distinctive word may name the service (`BAGS_MOLTBOOK_API_KEY` is used with
    // moltbook): they are kept together, joined by `_`.
    match distinctive.is_empty() {
        false => Owner::Named(
            distinctive
                .iter()
                .enumerate()
                .filter(|(i, w)| *i == 0 || w.len() >= 4)
                .map(|(_, w)| w.to_ascii_lowercase())
                .collect::<Vec<_>>()
                .join("_"),
        ),
        true => Owner::Unknown,
    }
}

/// The owner of a credential file or store, by its path as written.
pub fn owner_of_file(path: &str, services: &Services) -> Owner {
    if let Some(entry) = agent_store_entry(path) {
        return owner_of_env(entry, services);
    }
    // The agent's own files (its `.env`, its config) hold every service's keys.
    if is_agent_home(path) {
        return Owner::Unknown;
    }
    match services.by_file(path) {
        Some(service) if !service.hosts.is_empty() => Owner::Service(service.name.clone()),
        _ => Owner::Unknown,
    }
}

fn is_agent_home(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    [".openclaw", ".clawdbot", ".moltbot"].iter().any(|home| lower.contains(home))
}

/// The service a skill's own entry in the agent's credential store is named after
/// (`~/.openclaw/credentials/<service>/config.json`): the store is shared, but one named entry
/// holds that service's key, like `<SERVICE>_API_KEY` does. The store itself, the agent's
/// `.env` and its config stay nobody's: they hold every service's keys.
fn agent_store_entry(path: &str) -> Option<&str> {
    let lower = path.to_ascii_lowercase();
    let at = ["openclaw/credentials/", "clawdbot/credentials/", "moltbot/credentials/"]
        .iter()
        .find_map(|store| lower.find(store).map(|i| i + store.len()))?;
    let entry = path[at..].split('/').next()?.trim_end_matches(".json");
    (entry.len() >= 3 && entry.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')).then_some(entry)
}

impl Owner {
    /// Whether `host` is one of this owner's own hosts.
    pub fn owns(&self, host: &str, services: &Services) -> bool {
        match self {
            Owner::Service(name) => services.by_name(name).is_some_and(|s| s.owns(host)),
            Owner::Named(words) => {
                words.split('_').any(|word| {
                    // Services spelled with digits (`1inch`, `0x`) are named in words in variables,
                    // and a name cannot start with a digit (`TRACK17_` for `17track`).
                    let word = &digits_for_number_words(word);
                    let rotated = rotate_trailing_digits(word);
                    let domain = registrable(host);
                    let squashed: String = domain.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
                    let first = domain.split('.').next().unwrap_or("").replace('-', "");
                    [word.as_str(), rotated.as_str()].iter().filter(|w| !w.is_empty()).any(|w| {
                        host.split('.').any(|label| label.replace('-', "").contains(w)) || squashed.contains(w)
                    }) || abbreviates(word, &first)
                })
            }
            Owner::Unknown => false,
        }
    }

    pub fn is_known(&self) -> bool {
        !matches!(self, Owner::Unknown)
    }
}

/// `track17` → `17track`; empty when the word does not end in digits after letters.
fn rotate_trailing_digits(word: &str) -> String {
    let letters = word.trim_end_matches(|c: char| c.is_ascii_digit());
    if letters.len() == word.len() || letters.is_empty() {
        return String::new();
    }
    format!("{}{letters}", &word[letters.len()..])
}

fn digits_for_number_words(word: &str) -> String {
    const NUMBERS: &[(&str, &str)] = &[
        ("zero", "0"),
        ("one", "1"),
        ("two", "2"),
        ("three", "3"),
        ("four", "4"),
        ("five", "5"),
        ("six", "6"),
        ("seven", "7"),
        ("eight", "8"),
        ("nine", "9"),
        ("ten", "10"),
    ];
    let mut out = word.to_string();
    for (name, digit) in NUMBERS {
        if out.starts_with(name) {
            out = format!("{digit}{}", &out[name.len()..]);
        }
    }
    out
}

/// Whether `word` abbreviates `name`: same first letter, and its letters appear in `name` in
/// order (`apca` for `alpaca`). Only for names the service table does not know, which their
/// author chose anyway.
fn abbreviates(word: &str, name: &str) -> bool {
    if word.len() < 3 || word.len() >= name.len() || word.chars().next() != name.chars().next() {
        return false;
    }
    let mut rest = name.chars();
    word.chars().all(|c| rest.any(|n| n == c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn services() -> Services {
        Services::parse(
            "t",
            "[[service]]\nname='github'\nenv=['GITHUB','GH']\nfiles=['.config/gh']\nhosts=['github.com']\n\
             [[service]]\nname='huggingface'\nenv=['HF','HUGGING_FACE']\nhosts=['huggingface.co']\n\
             [[service]]\nname='aws'\nenv=['AWS']\nfiles=['.aws/credentials']\nhosts=['amazonaws.com']\n",
        )
        .unwrap()
    }

    #[test]
    fn secret_names() {
        for name in [
            "GITHUB_TOKEN",
            "OPENAI_API_KEY",
            "AWS_SECRET_ACCESS_KEY",
            "DB_PASSWORD",
            "NPM_TOKEN",
            "STRIPEAPIKEY",
            "WALLET_SEED_PHRASE",
        ] {
            assert!(is_secret_env_name(name), "{name}");
        }
        for name in [
            "AWS_ACCESS_KEY_ID",
            "GITHUB_TOKEN_URL",
            "SSH_KEY_PATH",
            "HOME",
            "PATH",
            "KEYBOARD_LAYOUT",
            "DEBUG",
            "RANDOM_SEED",
        ] {
            assert!(!is_secret_env_name(name), "{name}");
        }
    }

    #[test]
    fn owners_by_table_and_by_name() {
        let s = services();
        assert_eq!(owner_of_env("GH_TOKEN", &s), Owner::Service("github".into()));
        assert_eq!(owner_of_env("HUGGING_FACE_HUB_TOKEN", &s), Owner::Service("huggingface".into()));
        assert_eq!(owner_of_env("AWS_SECRET_ACCESS_KEY", &s), Owner::Service("aws".into()));
        assert_eq!(owner_of_env("ACMEWEATHER_API_KEY", &s), Owner::Named("acmeweather".into()));
        assert_eq!(owner_of_env("API_KEY", &s), Owner::Unknown);
        assert_eq!(owner_of_file("~/.config/gh/hosts.yml", &s), Owner::Service("github".into()));
        assert_eq!(owner_of_file("~/.clawdbot/.env", &s), Owner::Unknown);
        assert_eq!(owner_of_file("~/.openclaw/openclaw.json", &s), Owner::Unknown);
        assert_eq!(owner_of_file("~/.openclaw/credentials/github/token.json", &s), Owner::Service("github".into()));
        assert!(Owner::Service("github".into()).owns("api.github.com", &s));
        assert!(!Owner::Service("github".into()).owns("github.example.invalid", &s));
        assert!(Owner::Named("acmeweather".into()).owns("api.acme-weather.example.com", &s));
        assert!(Owner::Named("weather".into()).owns("api.openweathermap.org", &s));
        assert!(!Owner::Named("weather".into()).owns("collector.example.invalid", &s));
        assert!(Owner::Named("apca".into()).owns("paper-api.alpaca.markets", &s));
        assert!(Owner::Named("oneinch".into()).owns("api.1inch.dev", &s));
        assert!(Owner::Named("zerox".into()).owns("api.0x.org", &s));
        assert!(!Owner::Named("apca".into()).owns("collector.example.invalid", &s));
        assert_eq!(owner_of_env("SHOPLY_MARKETPLACE_API_KEY", &s), Owner::Named("shoply_marketplace".into()));
        assert!(Owner::Named("shoply_marketplace".into()).owns("api.marketplace.example.org", &s));
        assert!(!Owner::Named("shoply_marketplace".into()).owns("collector.example.invalid", &s));
        assert!(Owner::Named("parcel24".into()).owns("api.24parcel.example.net", &s));
        assert!(!Owner::Named("parcel24".into()).owns("api.42parcel.example.net", &s));
    }
}
