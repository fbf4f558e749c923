//! The deployment files under `deploy/`: the systemd units pass `systemd-analyze verify` with no
//! warning (an unknown or misspelt hardening key is only a warning there, and silently drops
//! the protection), and the container image runs the mirror as a non-root user with its data
//! directory on a volume and a command line the binary accepts.

use std::process::Command;

use crate::util::{bin, repo};

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn systemd_units_verify_without_warnings() {
    let analyze = "systemd-analyze";
    assert!(
        Command::new(analyze).arg("--version").output().is_ok_and(|o| o.status.success()),
        "systemd-analyze is needed to check deploy/*.service (Debian: apt-get install systemd)"
    );
    let dir = tempfile::tempdir().unwrap();
    let mirror = bin("skillscan-mirror");
    for unit in ["skillscan-mirror.service", "skillscan-mirror-scrub.service", "skillscan-mirror-scrub.timer"] {
        // The installed binary path and the service user do not exist on a build machine.
        let text = read(&format!("deploy/{unit}"))
            .replace("/usr/local/bin/skillscan-mirror", mirror.to_str().unwrap())
            .replace("User=skillscan-mirror", "User=root")
            .replace("Group=skillscan-mirror", "Group=root");
        std::fs::write(dir.path().join(unit), text).unwrap();
    }
    for unit in ["skillscan-mirror.service", "skillscan-mirror-scrub.service", "skillscan-mirror-scrub.timer"] {
        let o = Command::new(analyze).arg("verify").arg(dir.path().join(unit)).output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        // Lines about the host's own units are not ours.
        let ours: Vec<&str> = stderr.lines().filter(|l| l.contains("skillscan")).collect();
        assert!(o.status.success() && ours.is_empty(), "{unit}: {stderr}");
    }
    let service = read("deploy/skillscan-mirror.service");
    for hardening in ["NoNewPrivileges=yes", "ProtectSystem=strict", "CapabilityBoundingSet=\n", "UMask=0077"] {
        assert!(service.contains(hardening), "skillscan-mirror.service lacks {hardening:?}");
    }
    // The scrub service runs the same binary on the same data directory as the server.
    let scrub = read("deploy/skillscan-mirror-scrub.service");
    assert!(scrub.contains("--data /var/lib/skillscan-mirror") && service.contains("--data /var/lib/skillscan-mirror"));
}

/// Instructions of a Dockerfile, continuation lines joined.
fn instructions(dockerfile: &str) -> Vec<(String, String)> {
    let joined = dockerfile.replace("\\\n", " ");
    joined
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(' ').map(|(k, v)| (k.to_ascii_uppercase(), v.trim().to_owned())))
        .collect()
}

#[test]
fn the_container_runs_the_mirror_as_a_non_root_user_with_its_data_on_a_volume() {
    let steps = instructions(&read("deploy/Dockerfile"));
    let of = |k: &str| steps.iter().filter(|(key, _)| key == k).map(|(_, v)| v.as_str()).collect::<Vec<_>>();
    assert!(of("FROM").len() >= 2, "multi-stage: {:?}", of("FROM"));
    assert!(of("FROM")[0].ends_with(" AS build"), "{:?}", of("FROM"));
    assert!(of("RUN").iter().any(|r| r.contains("cargo build --release --locked")), "{:?}", of("RUN"));
    // The last USER is the one the mirror runs as: numeric, not root.
    let user = *of("USER").last().expect("a USER instruction");
    let uid = user.split(':').next().unwrap();
    assert!(uid.parse::<u32>().is_ok_and(|u| u != 0), "USER {user}");
    let volume = of("VOLUME").join(" ");
    let data = of("ENV")
        .iter()
        .flat_map(|e| e.split_whitespace())
        .find_map(|kv| kv.strip_prefix("SKILLSCAN_MIRROR_DATA="))
        .expect("SKILLSCAN_MIRROR_DATA set")
        .to_owned();
    assert!(volume.contains(&format!("\"{data}\"")), "the data directory {data} is a volume: {volume}");
    assert!(of("COPY").iter().any(|c| c.starts_with("--from=build") && c.ends_with("/usr/local/bin/skillscan-mirror")));

    // ENTRYPOINT + CMD is a command line the binary accepts.
    let exec_form = |v: &str| -> Vec<String> { serde_json::from_str(v).expect("exec form (JSON array)") };
    let entry = exec_form(of("ENTRYPOINT")[0]);
    assert_eq!(entry, ["/usr/local/bin/skillscan-mirror"]);
    let mut args = exec_form(of("CMD")[0]);
    assert!(args.contains(&"serve".to_owned()), "{args:?}");
    args.push("--help".into());
    let o = Command::new(bin("skillscan-mirror")).args(&args).output().unwrap();
    assert!(o.status.success(), "skillscan-mirror {args:?}: {}", String::from_utf8_lossy(&o.stderr));
}
