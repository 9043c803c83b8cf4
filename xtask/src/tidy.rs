//! The repository's own lint, run by `cargo xtask tidy` and by `cargo test`.
//!
//! Every Rust file opens with a `//!` doc, stays under the size where it
//! stops being one concern, and holds no leftover `dbg!`, `todo!` or
//! `unimplemented!`; fixtures hold no credentials.

use std::fs;
use std::path::{Path, PathBuf};

use crate::project_root;

/// Files above this many lines fail tidy; STYLE.md asks to split at about 600.
const MAX_LINES: usize = 800;

pub(crate) fn run() -> Result<(), String> {
    let problems = check(&project_root());
    if problems.is_empty() {
        println!("tidy: clean");
        Ok(())
    } else {
        Err(format!(
            "tidy found {} problem(s):\n  {}",
            problems.len(),
            problems.join("\n  ")
        ))
    }
}

fn check(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for dir in ["crates", "xtask"] {
        for file in files(&root.join(dir), "rs") {
            check_rust_file(root, &file, &mut problems);
        }
    }
    for dir in fixture_dirs(root) {
        for file in files(&dir, "") {
            check_fixture(root, &file, &mut problems);
        }
    }
    problems
}

/// `fixtures/` at the root and any folder named `fixtures` inside a crate,
/// where recorded HTTP interactions live.
fn fixture_dirs(root: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if !path.is_dir() || name.starts_with("target") || name.starts_with('.') {
                continue;
            }
            if name == "fixtures" {
                found.push(path);
            } else {
                walk(&path, found);
            }
        }
    }
    let mut found = vec![root.join("fixtures")];
    walk(&root.join("crates"), &mut found);
    found
}

fn check_rust_file(root: &Path, file: &Path, problems: &mut Vec<String>) {
    let Ok(text) = fs::read_to_string(file) else {
        return;
    };
    let name = file
        .strip_prefix(root)
        .unwrap_or(file)
        .display()
        .to_string();
    if !text.trim_start().starts_with("//!") {
        problems.push(format!("{name}: does not start with a `//!` doc comment"));
    }
    let lines = text.lines().count();
    if lines > MAX_LINES {
        problems.push(format!(
            "{name}: {lines} lines; split it (limit {MAX_LINES})"
        ));
    }
    // Split the needles so this file does not trip over itself.
    for needle in [
        concat!("db", "g!("),
        concat!("to", "do!("),
        concat!("unimpl", "emented!("),
    ] {
        if text.contains(needle) {
            problems.push(format!("{name}: contains `{needle}`"));
        }
    }
}

fn check_fixture(root: &Path, file: &Path, problems: &mut Vec<String>) {
    let Ok(bytes) = fs::read(file) else {
        return;
    };
    let name = file
        .strip_prefix(root)
        .unwrap_or(file)
        .display()
        .to_string();
    if let Some(kind) = credential_in(&String::from_utf8_lossy(&bytes)) {
        problems.push(format!(
            "{name}: holds what looks like {kind}; scrub it and record again"
        ));
    }
}

/// The kind of the first credential in `text`: a GitHub token (`ghp_…`,
/// `github_pat_…`), a `Bearer` token or a `Basic` user:password pair.
/// Challenges (`Bearer realm="…"`) and placeholders (`[redacted]`) pass.
pub(crate) fn credential_in(text: &str) -> Option<&'static str> {
    const GITHUB_PREFIXES: [&str; 6] = ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"];
    for prefix in GITHUB_PREFIXES {
        let long = text.match_indices(prefix).any(|(at, _)| {
            let rest = &text.as_bytes()[at + prefix.len()..];
            rest.iter()
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                .count()
                >= 20
        });
        if long {
            return Some("a GitHub token");
        }
    }
    let lowered = text.to_ascii_lowercase();
    for (scheme, kind) in [("bearer", "a Bearer token"), ("basic", "Basic credentials")] {
        for (at, _) in lowered.match_indices(scheme) {
            let after = &text[at + scheme.len()..];
            let value = after.trim_start_matches([' ', '\t']);
            if value.len() == after.len() {
                continue; // `bearer` inside a word, or not followed by a space.
            }
            let credential: String = value
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || "-._~+/=".contains(*c))
                .collect();
            if credential.to_ascii_lowercase().contains("redacted") {
                continue;
            }
            let leaked = match scheme {
                "bearer" => credential.trim_end_matches('=').len() >= 16,
                _ => base64_decode(&credential).is_some_and(|pair| pair.contains(&b':')),
            };
            if leaked {
                return Some(kind);
            }
        }
    }
    None
}

/// Standard base64, padding optional; `None` for anything else.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let digits = text.trim_end_matches('=');
    if digits.len() < 4 {
        return None;
    }
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for byte in digits.bytes() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((buffer >> bits) & 0xff).ok()?);
        }
    }
    Some(out)
}

pub(crate) fn files(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            found.extend(files(&path, extension));
        } else if extension.is_empty() || path.extension().is_some_and(|e| e == extension) {
            found.push(path);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_is_tidy() {
        let problems = check(&project_root());
        assert!(problems.is_empty(), "tidy:\n{}", problems.join("\n"));
    }

    #[test]
    fn credentials_are_told_from_challenges_and_placeholders() {
        for (text, expected) in [
            (
                r#"{"authorization": "Bearer eyJhbGciOiJSUzI1NiJ9.payload.signature"}"#,
                Some("a Bearer token"),
            ),
            (
                "authorization: BEARER djE6b2N0by9hcHA6MTcwMDAwMDAwMA==",
                Some("a Bearer token"),
            ),
            (
                r#"{"authorization": "Basic b2N0bzpwYXQ="}"#,
                Some("Basic credentials"),
            ),
            (
                concat!("token=", "ghp_", "0123456789abcdefghijABCDEFGHIJ012345"),
                Some("a GitHub token"),
            ),
            (
                concat!("github_pat_", "11ABCDEFG0123456789_abcdefghijklmnop"),
                Some("a GitHub token"),
            ),
            (
                r#"{"www-authenticate": "Bearer realm=\"https://ghcr.io/token\",service=\"ghcr.io\""}"#,
                None,
            ),
            (r#"{"www-authenticate": "Basic realm=\"registry\""}"#, None),
            (r#"{"authorization": "Bearer [redacted]"}"#, None),
            (r#"{"authorization": "Basic REDACTED"}"#, None),
            (
                r#"{"authorization": "Bearer REDACTED_BY_GHCR_SIM_RECORDER"}"#,
                None,
            ),
            ("the basic idea: a bearer of news", None),
            (concat!("ghs_", "short"), None),
            ("sha256:0123456789abcdef0123456789abcdef", None),
        ] {
            assert_eq!(credential_in(text), expected, "{text}");
        }
    }

    #[test]
    fn fixtures_inside_crates_are_scanned() {
        let dir = std::env::temp_dir().join(format!("xtask-fixtures-{}", std::process::id()));
        let cassette = dir.join("crates").join("sim").join("fixtures").join("pull");
        fs::create_dir_all(&cassette).unwrap();
        fs::write(
            cassette.join("cassette.json"),
            r#"{"request": {"headers": {"authorization": ["Basic b2N0bzpwYXQ="]}}}"#,
        )
        .unwrap();
        let problems = check(&dir);
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("cassette.json") && problems[0].contains("Basic"));
    }

    #[test]
    fn tidy_catches_what_it_claims_to() {
        let dir = std::env::temp_dir().join(format!("xtask-tidy-{}", std::process::id()));
        let src = dir.join("crates").join("demo");
        let fixtures = dir.join("fixtures");
        fs::create_dir_all(&src).unwrap();
        fs::create_dir_all(&fixtures).unwrap();
        fs::write(
            src.join("bad.rs"),
            format!("fn main() {{ {}1); }}\n", concat!("db", "g!(")),
        )
        .unwrap();
        fs::write(
            fixtures.join("cassette.json"),
            "{\"authorization\": \"Bearer abcdefghijklmnopqrstuvwxyz\"}",
        )
        .unwrap();
        let problems = check(&dir);
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("`//!`")));
        assert!(problems.iter().any(|p| p.contains("dbg")));
        assert!(problems.iter().any(|p| p.contains("Bearer token")));
    }
}
