//! Property tests: hostile URLs and archive bytes never panic and never yield a 5xx.

use axum::body::Body;
use axum::http::Request;
use proptest::prelude::*;
use skillscan_mirror::archive::{Limits, SkillArchive, check_structure};

use crate::common::*;

/// One seeded mirror shared by every case (building one per case dominates the run time).
fn shared() -> &'static Env {
    static ENV: std::sync::OnceLock<Env> = std::sync::OnceLock::new();
    ENV.get_or_init(|| {
        let e = env();
        e.ingest("weather-brief", "1.0.0", "acme", &[("SKILL.md", BENIGN_MD)]);
        e
    })
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn hostile_urls_never_5xx(
        seg in "[a-zA-Z0-9%./\\\\:@!$&'()*+,;=_~-]{0,64}",
        q in "[a-zA-Z0-9%=&+./\\\\_~-]{0,128}",
        route in 0usize..8,
    ) {
        let e = shared();
        let uri = match route {
            0 => format!("/api/v1/skills/{seg}?{q}"),
            1 => format!("/api/v1/skills/{seg}/versions/{seg}?{q}"),
            2 => format!("/api/v1/skills/weather-brief/file?path={seg}&{q}"),
            3 => format!("/api/v1/download?slug={seg}&{q}"),
            4 => format!("/api/v1/resolve?slug={seg}&hash={q}"),
            5 => format!("/api/v1/search?q={seg}&{q}"),
            6 => format!("/api/v1/skills?{q}"),
            _ => format!("/api/v1/download/signature?slug={seg}&version={q}"),
        };
        let Ok(req) = Request::get(uri.as_str()).body(Body::empty()) else { return Ok(()) };
        let (status, _, _) = rt().block_on(call(e.app(), req));
        prop_assert!(status.as_u16() < 500, "{uri} -> {status}");
    }

    #[test]
    fn archive_reader_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let _ = SkillArchive::read(&bytes, &Limits::default());
        let _ = check_structure(&bytes, &Limits::default());
    }

    #[test]
    fn mutated_zips_never_panic(pos in any::<prop::sample::Index>(), byte in any::<u8>(), cut in any::<prop::sample::Index>()) {
        let mut z = zip("weather-brief", "1.0.0", &[("SKILL.md", BENIGN_MD), ("a/b.py", "print(1)\n")]);
        let i = pos.index(z.len());
        z[i] = byte;
        let _ = SkillArchive::read(&z, &Limits::default());
        let _ = check_structure(&z, &Limits::default());
        let c = cut.index(z.len());
        let _ = SkillArchive::read(&z[..c], &Limits::default());
        // A cut archive is damaged, not crafted: never a security event.
        let cut_off = check_structure(&z[..c], &Limits::default());
        prop_assert!(!cut_off.as_ref().is_err_and(|e| e.is_hostile()), "{cut_off:?}");
    }
}
