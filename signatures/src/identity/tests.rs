use std::collections::BTreeMap;

use super::*;

#[test]
fn slugs() {
    for good in ["weather-brief", "a", "0x.y_z", &"a".repeat(128)] {
        assert_eq!(good.parse::<Slug>().map(Slug::into_string).as_deref(), Ok(good));
    }
    let cases = [
        ("", "must not be empty"),
        ("-a", "must start with a lowercase letter or a digit"),
        ("Weather", "must start with a lowercase letter or a digit"),
        ("é", "must start with a lowercase letter or a digit"),
        ("a b", "may only contain a-z, 0-9, '.', '_' and '-'"),
        ("a\tb", "may only contain a-z, 0-9, '.', '_' and '-'"),
        ("a/b", "may only contain a-z, 0-9, '.', '_' and '-'"),
        ("aB", "may only contain a-z, 0-9, '.', '_' and '-'"),
        (&"a".repeat(129), "is longer than 128 characters"),
    ];
    for (input, reason) in cases {
        assert_eq!(Slug::from_str(input).map_err(|e| e.reason), Err(reason), "{input:?}");
    }
    assert_eq!(
        Slug::from_str("a\u{1b}[31m").err().map(|e| e.to_string()).as_deref(),
        Some("invalid slug \"a\\u{1b}[31m\": may only contain a-z, 0-9, '.', '_' and '-'")
    );
}

#[test]
fn registry_slugs_are_the_mirrors_rule() {
    for good in ["weather-brief", "a", "0", "a--b", "trailing-", &"a".repeat(96)] {
        let slug = Slug::parse_registry(good);
        assert!(slug.as_ref().is_ok_and(Slug::is_registry_slug), "{good:?}");
    }
    let cases = [
        ("a.b", "may only contain a-z, 0-9 and '-' in a registry slug"),
        ("a_b", "may only contain a-z, 0-9 and '-' in a registry slug"),
        (&"a".repeat(97), "is longer than 96 characters, the registry's limit"),
        // The base rule is checked first, with its own reason.
        ("-a", "must start with a lowercase letter or a digit"),
        ("A", "must start with a lowercase letter or a digit"),
    ];
    for (input, reason) in cases {
        assert_eq!(Slug::parse_registry(input).map_err(|e| e.reason), Err(reason), "{input:?}");
    }
    // Valid slugs that are not registry slugs.
    for input in ["a.b", "a_b", &"a".repeat(97)] {
        assert!(input.parse::<Slug>().is_ok_and(|s| !s.is_registry_slug()), "{input:?}");
    }
}

#[test]
fn versions() {
    for good in ["1.0.0", "1.0.0-rc.1+build.5", "0123abcdef", "v2", &"1".repeat(128)] {
        assert_eq!(good.parse::<Version>().map(Version::into_string).as_deref(), Ok(good));
    }
    let cases = [
        ("", "must not be empty"),
        (".1", "must start with a letter or a digit"),
        ("1.0 ", "may only contain letters, digits, '.', '+', '_' and '-'"),
        ("1:0", "may only contain letters, digits, '.', '+', '_' and '-'"),
        ("../1.0.0", "must start with a letter or a digit"),
        (&"1".repeat(129), "is longer than 128 characters"),
    ];
    for (input, reason) in cases {
        assert_eq!(Version::from_str(input).map_err(|e| e.reason), Err(reason), "{input:?}");
    }
    assert_eq!(
        Version::from_str("").err().map(|e| e.to_string()).as_deref(),
        Some("invalid version \"\": must not be empty")
    );
}

#[test]
fn owners() {
    for good in ["acme", "Acme", "a.b_c-d", "0", &"a".repeat(128)] {
        assert_eq!(good.parse::<Owner>().map(Owner::into_string).as_deref(), Ok(good));
    }
    let cases = [
        ("", "must not be empty"),
        ("-acme", "must start with a letter or a digit"),
        ("_acme", "must start with a letter or a digit"),
        ("@acme", "must start with a letter or a digit"),
        ("a/b", "may only contain letters, digits, '.', '_' and '-'"),
        (&"a".repeat(129), "is longer than 128 characters"),
    ];
    for (input, reason) in cases {
        assert_eq!(Owner::from_str(input).map_err(|e| e.reason), Err(reason), "{input:?}");
    }
    // Equality is exact: a lock entry keeps its spelling.
    assert_ne!(Owner::from_str("Acme").ok(), Owner::from_str("acme").ok());
}

#[test]
fn handles_are_read_the_clawhub_way() {
    assert_eq!(Owner::from_handle("@Acme").map(Owner::into_string).as_deref(), Ok("acme"));
    assert_eq!(Owner::from_handle("acme").map(Owner::into_string).as_deref(), Ok("acme"));
    let error = Owner::from_handle("@@acme").err();
    assert_eq!(error.as_ref().map(|e| e.input.as_str()), Some("@@acme"));
    assert_eq!(error.map(|e| e.reason), Some("must start with a letter or a digit"));
    assert!(Owner::from_handle("@").is_err());
    assert!(Owner::from_handle("@a/b").is_err());
    assert!(Owner::from_str("acme").is_ok_and(|o| o.is_registry_handle()));
    assert!(Owner::from_str("a.b").is_ok_and(|o| !o.is_registry_handle()));
    assert!(Owner::from_str(&"a".repeat(65)).is_ok_and(|o| !o.is_registry_handle()));
    assert!(Owner::from_str(&"a".repeat(64)).is_ok_and(|o| o.is_registry_handle()));
}

#[test]
fn strict_paths_have_one_spelling() {
    for good in ["SKILL.md", "scripts/x.py", "a b/ü.md", "..a/b..", "ab:c", "1:x", ".hidden/x"] {
        assert_eq!(good.parse::<SkillPath>().map(SkillPath::into_string).as_deref(), Ok(good));
        assert_eq!(SkillPath::normalize(good).map(SkillPath::into_string).as_deref(), Ok(good));
    }
    let strict = |input: &str| SkillPath::from_str(input).map(|_| ()).map_err(|e| e.reason);
    assert_eq!(strict("./scripts/x.py"), Err(PathProblem::LeadingDotSlash));
    assert_eq!(strict("./"), Err(PathProblem::LeadingDotSlash));
    assert_eq!(SkillPath::normalize("./scripts/x.py").map(SkillPath::into_string).as_deref(), Ok("scripts/x.py"));
    assert_eq!(SkillPath::normalize("./").map_err(|e| e.reason), Err(PathProblem::Empty));
    // Every other problem is the same in both modes.
    for input in ["", "/etc/passwd", "C:/x", "a:b", "../x", "a/./b", ".", "a//b", "a/", "a\\b", "a\nb", "a\0b", "a\tb"]
    {
        assert_eq!(strict(input), SkillPath::normalize(input).map(|_| ()).map_err(|e| e.reason), "{input:?}");
        assert!(strict(input).is_err(), "{input:?}");
    }
    assert_eq!(strict(&"a".repeat(SkillPath::MAX_LEN)), Ok(()));
    assert_eq!(strict(&"a".repeat(SkillPath::MAX_LEN + 1)), Err(PathProblem::TooLong));
    assert_eq!(
        SkillPath::from_str("./x").err().map(|e| e.to_string()).as_deref(),
        Some("invalid path \"./x\": a leading `./` is not part of the canonical form")
    );
}

#[test]
fn the_most_dangerous_problem_is_reported() {
    let problem = |input: &str| SkillPath::normalize(input).err().map(|e| e.reason);
    // `..` behind a merely non-canonical spelling is still refused as `..`.
    assert_eq!(problem("a//../b"), Some(PathProblem::ParentSegment));
    assert_eq!(problem("a/./../b"), Some(PathProblem::ParentSegment));
    assert_eq!(problem(&format!("{}/../x", "a".repeat(SkillPath::MAX_LEN))), Some(PathProblem::ParentSegment));
    assert_eq!(SkillPath::from_str("./../x").err().map(|e| e.reason), Some(PathProblem::ParentSegment));
    // Absolute before characters, `\` before control characters, characters before `..`.
    assert_eq!(problem("/a\\b"), Some(PathProblem::Absolute));
    assert_eq!(problem("C:\\x"), Some(PathProblem::DrivePrefix));
    assert_eq!(problem("./C:x"), Some(PathProblem::DrivePrefix));
    assert_eq!(problem("a\nb\\c"), Some(PathProblem::Backslash));
    assert_eq!(problem("../a\tb"), Some(PathProblem::ControlCharacter));
    for input in ["a//../b", "/a\nb", "../a\\b", "a/./C:/..", "./../x"] {
        assert!(problem(input).is_some_and(PathProblem::is_unsafe_to_extract), "{input:?}");
    }
}

#[test]
fn path_errors_escape_the_path() {
    let err = PathError { path: "a\nb\u{1b}[31m".to_owned(), reason: PathProblem::LineBreak };
    let text = err.to_string();
    assert!(!text.contains('\n'));
    assert!(!text.contains('\u{1b}'));
    assert!(text.contains("a\\nb"));
}

#[test]
fn unsafe_to_extract_is_the_scanners_subset() {
    let unsafe_inputs = ["/etc/passwd", "C:/x", "../x", "a/../b", "a\\b", "a\nb", "a\0b", "a\u{7f}"];
    for input in unsafe_inputs {
        let problem = SkillPath::normalize(input).err().map(|e| e.reason);
        assert!(problem.is_some_and(PathProblem::is_unsafe_to_extract), "{input:?}: {problem:?}");
    }
    for input in ["", "a/./b", "a//b", "a/", "./", &"a".repeat(SkillPath::MAX_LEN + 1)] {
        let problem = SkillPath::normalize(input).err().map(|e| e.reason);
        assert!(problem.is_some_and(|p| !p.is_unsafe_to_extract()), "{input:?}: {problem:?}");
    }
    assert!(!PathProblem::LeadingDotSlash.is_unsafe_to_extract());
}

#[test]
fn file_names_and_root_manifests() {
    let path = |text: &str| SkillPath::from_str(text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(path("scripts/x.py").file_name(), "x.py");
    assert_eq!(path("SKILL.md").file_name(), "SKILL.md");
    assert!(path("SKILL.md").is_root_manifest());
    assert!(path("Skill.md").is_root_manifest());
    assert!(!path("docs/SKILL.md").is_root_manifest());
    assert!(!path("README.md").is_root_manifest());
}

#[test]
fn manifest_names() {
    // OpenClaw's archive installer list, ClawHub's "any case", and the case variants a
    // case-insensitive file system opens as SKILL.md.
    for name in ["SKILL.md", "skill.md", "skills.md", "SKILL.MD", "Skill.md", "SKILLS.MD", "sKiLl.Md"] {
        assert!(is_manifest_name(name), "{name:?}");
    }
    for name in ["", "SKILL", "SKILL.md ", " SKILL.md", "SKILL.markdown", "README.md", "docs/SKILL.md", "SKİLL.md"] {
        assert!(!is_manifest_name(name), "{name:?}");
    }
}

#[test]
fn the_preferred_manifest_is_skill_md() {
    assert_eq!(preferred_manifest(["skills.md", "SKILL.md", "Skill.md"]), Some("SKILL.md"));
    assert_eq!(preferred_manifest(["skills.md", "README.md", "Skill.md"]), Some("Skill.md"));
    assert_eq!(preferred_manifest(["SKILL.md.bak", "README.md"]), None);
    assert_eq!(preferred_manifest([]), None);
}

#[test]
fn conversions_and_serde() {
    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Holder {
        slug: Slug,
        version: Version,
        owner: Owner,
        path: SkillPath,
    }
    let holder = Holder {
        slug: Slug::try_from("weather-brief").unwrap_or_else(|e| panic!("{e}")),
        version: Version::try_from("1.0.0".to_owned()).unwrap_or_else(|e| panic!("{e}")),
        owner: "acme".parse().unwrap_or_else(|e| panic!("{e}")),
        path: "scripts/x.py".parse().unwrap_or_else(|e| panic!("{e}")),
    };
    let text = toml::to_string(&holder).unwrap_or_default();
    assert_eq!(text, "slug = \"weather-brief\"\nversion = \"1.0.0\"\nowner = \"acme\"\npath = \"scripts/x.py\"\n");
    assert_eq!(toml::from_str::<Holder>(&text).ok(), Some(holder));
    for bad in [
        text.replace("weather-brief", "Weather"),
        text.replace("1.0.0", "1 0"),
        text.replace("acme", "-acme"),
        text.replace("scripts/x.py", "./scripts/x.py"),
        text.replace("scripts/x.py", "../x"),
    ] {
        let error = toml::from_str::<Holder>(&bad).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("invalid"), "{bad}: {error}");
    }
    let slug = Slug::try_from("a").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(slug.to_string(), "a");
    assert_eq!(slug.as_ref(), "a");
    assert_eq!(&*slug, "a");
    assert_eq!(Some(&slug).map(|s| s.len()), Some(1));
    assert_eq!(String::from(slug.clone()), "a");
    let by_slug: BTreeMap<Slug, u8> = BTreeMap::from([(slug, 1)]);
    assert_eq!(by_slug.get("a"), Some(&1));
}

#[test]
fn ordering_is_the_strings() {
    let mut slugs: Vec<Slug> = ["b", "a-2", "a.1", "a"].iter().filter_map(|s| s.parse().ok()).collect();
    slugs.sort();
    let order: Vec<&str> = slugs.iter().map(Slug::as_str).collect();
    assert_eq!(order, ["a", "a-2", "a.1", "b"]);
}

#[test]
fn types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Slug>();
    check::<Version>();
    check::<Owner>();
    check::<SkillPath>();
    check::<PathError>();
}
