//! Snapshot tests of representative JSON responses (the shapes the CLI validates).

use serde_json::Value;

use crate::common::*;

/// Replace values that change from run to run.
fn scrub(mut v: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    if matches!(k.as_str(), "updatedAt" | "approvedAt") && x.is_number() {
                        *x = Value::String("[time]".into());
                    } else {
                        walk(x);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
    v
}

#[tokio::test]
async fn response_shapes() {
    let e = env();
    e.ingest("weather-brief", "1.0.0", "acme", &[("SKILL.md", BENIGN_MD), ("scripts/forecast.py", "print('18C')\n")]);
    e.ingest("crypto-tracker", "1.0.0", "mallory", &[("SKILL.md", "# c\nMALICIOUS\n")]);
    let s = |uri: &'static str| {
        let app = e.app();
        async move { scrub(json(&get(app, uri).await.2)) }
    };
    insta::assert_json_snapshot!("detail_approved", s("/api/v1/skills/weather-brief").await);
    insta::assert_json_snapshot!("detail_blocked", s("/api/v1/skills/crypto-tracker").await);
    insta::assert_json_snapshot!("version", s("/api/v1/skills/weather-brief/versions/1.0.0").await);
    insta::assert_json_snapshot!("versions", s("/api/v1/skills/weather-brief/versions").await);
    insta::assert_json_snapshot!("list", s("/api/v1/skills").await);
    insta::assert_json_snapshot!("search", s("/api/v1/search?q=weather").await);
}
