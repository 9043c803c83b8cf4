//! The secrets scan of the tests' trace files: `cargo xtask ci` runs the
//! tests once with `GHCR_TEST_TRACE_DIR` set (see
//! `xtask/test-support/trace.rs`), then every file there is searched for
//! the secrets the tests use and for anything that looks like a credential.
//!
//! The tests' secrets are collected from their sources, where they are
//! declared: the password of `.user("login", "secret")`,
//! `.user_with_scopes(…)`, `.installation_token(…)`, `.credentials(…)` and
//! `basic(…)` calls, and `const …TOKEN…/…PASSWORD…/…SECRET…/…PAT…: &str`
//! values, so a new test's token is scanned for without a list to keep.
//! Each pair's `login:secret` in base64 (a Basic header) is searched too.

use std::fs;
use std::path::{Path, PathBuf};

use crate::tidy::{credential_in, files};

/// Where the tests' trace files go: `<target>/test-traces`.
pub(crate) fn dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| crate::project_root().join("target"), PathBuf::from)
        .join("test-traces")
}

/// Scans every file in `traces`; fails listing `file:line` of each hit.
pub(crate) fn run(traces: &Path) -> Result<(), String> {
    let needles = needles(&crate::project_root().join("crates"));
    let logs = files(traces, "log");
    let bytes: u64 = logs
        .iter()
        .filter_map(|log| fs::metadata(log).ok())
        .map(|meta| meta.len())
        .sum();
    println!(
        "    {} trace file(s), {} MiB, scanned for {} test secret(s) and credential shapes",
        logs.len(),
        bytes / (1024 * 1024),
        needles.len()
    );
    if logs.is_empty() {
        return Err(format!(
            "no trace files in {}: the tests' tracing init did not run",
            traces.display()
        ));
    }
    let mut hits = Vec::new();
    for log in &logs {
        let Ok(text) = fs::read(log) else { continue };
        for (number, line) in String::from_utf8_lossy(&text).lines().enumerate() {
            if let Some(what) = hit(line, &needles) {
                hits.push(format!("{}:{}: {what}", log.display(), number + 1));
            }
        }
    }
    if hits.is_empty() {
        println!("    no secret in the traces");
        Ok(())
    } else {
        Err(format!(
            "{} trace line(s) hold a secret:\n  {}",
            hits.len(),
            hits.join("\n  ")
        ))
    }
}

/// What `line` leaks, if anything.
fn hit(line: &str, needles: &[String]) -> Option<String> {
    if let Some(needle) = needles.iter().find(|needle| line.contains(needle.as_str())) {
        return Some(format!("holds the test secret `{needle}`"));
    }
    credential_in(line).map(|kind| format!("holds what looks like {kind}"))
}

/// The tests' secrets (and their Basic pairs in base64), from the sources.
fn needles(crates: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for file in files(crates, "rs") {
        if let Ok(text) = fs::read_to_string(&file) {
            secrets_in(&text, &mut found);
        }
    }
    found.sort();
    found.dedup();
    found
}

/// A value is taken for a secret when it is distinctive enough that a trace
/// line holding it is a leak: 6 characters or more, and not a plain word.
fn distinctive(value: &str) -> bool {
    value.len() >= 6 && (value.len() >= 10 || !value.chars().all(|c| c.is_ascii_alphabetic()))
}

fn secrets_in(text: &str, found: &mut Vec<String>) {
    const CALLS: [&str; 5] = [
        ".user(",
        ".user_with_scopes(",
        ".installation_token(",
        ".credentials(",
        "basic(",
    ];
    for call in CALLS {
        for (at, _) in text.match_indices(call) {
            let Some((login, rest)) = string_literal(&text[at + call.len()..]) else {
                continue;
            };
            let Some(rest) = rest.trim_start().strip_prefix(',') else {
                continue;
            };
            if let Some((secret, _)) = string_literal(rest)
                && distinctive(secret)
            {
                found.push(secret.to_owned());
                found.push(base64(format!("{login}:{secret}").as_bytes()));
            }
        }
    }
    for line in text.lines() {
        let Some(rest) = line.trim_start().split("const ").nth(1) else {
            continue;
        };
        let Some((name, value)) = rest.split_once(": &str =") else {
            continue;
        };
        let secret_name = ["TOKEN", "PASSWORD", "SECRET", "PAT"]
            .iter()
            .any(|word| name.contains(word))
            && !["_VAR", "MARKER", "_USER"]
                .iter()
                .any(|end| name.ends_with(end));
        if let Some((value, _)) = string_literal(value)
            && secret_name
            && distinctive(value)
        {
            found.push(value.to_owned());
        }
    }
}

/// The first `"…"` at the start of `text` (after spaces) without escapes,
/// and what follows it.
fn string_literal(text: &str) -> Option<(&str, &str)> {
    let rest = text.trim_start().strip_prefix('"')?;
    let end = rest.find('"')?;
    let value = &rest[..end];
    (!value.contains('\\')).then(|| (value, &rest[end + 1..]))
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let word = chunk
            .iter()
            .enumerate()
            .fold(0u32, |word, (i, b)| word | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(DIGITS[(word >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_read_where_tests_declare_them() {
        let source = r#"
            const TOKEN: &str = "cli-test-token-8d1c";
            pub(crate) const PASSWORD: &str = "s3cret-password";
            const TOKEN_VAR: &str = "GHCR_TOKEN";
            const IDENTITY_TOKEN_USER: &str = "<token>";
            const USER: &str = "octo-user-name";
            FakeGhcr::builder().user("octo", "t-octo").user_with_scopes("bob", "t-bob", &[]);
            Credentials::basic("dev", "secret");
            Credentials::basic("a", "1");
            .credentials(USER, TOKEN)
        "#;
        let mut found = Vec::new();
        secrets_in(source, &mut found);
        found.sort();
        let mut expected = vec![
            "cli-test-token-8d1c".to_owned(),
            "s3cret-password".to_owned(),
            "t-octo".to_owned(),
            base64(b"octo:t-octo"),
        ];
        expected.sort();
        assert_eq!(found, expected, "t-bob is too short, `secret` a plain word");
    }

    #[test]
    fn base64_matches_the_standard() {
        for (input, expected) in [
            (&b"octo:t-octo"[..], "b2N0bzp0LW9jdG8="),
            (b"ab", "YWI="),
            (b"abc", "YWJj"),
            (b"", ""),
        ] {
            assert_eq!(base64(input), expected);
        }
    }

    #[test]
    fn lines_with_a_secret_or_a_credential_are_hits() {
        let needles = vec!["t-octo".to_owned()];
        for (line, leaks) in [
            (
                "DEBUG ghcr_transport: GET /v2/octo/app/manifests/v1 status=200",
                false,
            ),
            ("TRACE token answer t-octo", true),
            ("authorization: Bearer abcdefghijklmnop1234", true),
            (r#"www-authenticate: Bearer realm="http://x/token""#, false),
            ("Authorization: Basic b2N0bzp0LW9jdG8=", true),
        ] {
            assert_eq!(hit(line, &needles).is_some(), leaks, "{line}");
        }
    }
}
