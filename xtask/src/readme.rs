//! `cargo xtask readmes`: each library crate's README.md, made from its
//! crate-level `//!` doc (the text, then its first example without the
//! hidden `# ` lines), so the example a reader sees on crates.io is the
//! one `cargo test --doc` runs. Tidy fails when a README is out of date.

use std::fmt::Write as _;
use std::path::Path;

use crate::project_root;

/// Rewrites every library crate's README.md.
pub(crate) fn run() -> Result<(), String> {
    let root = project_root();
    for (crate_dir, text) in expected(&root)? {
        let path = crate_dir.join("README.md");
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// The README each library crate should have, by crate folder.
pub(crate) fn expected(root: &Path) -> Result<Vec<(std::path::PathBuf, String)>, String> {
    let mut readmes = Vec::new();
    let dir = root.join("crates");
    let mut crates: Vec<_> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.join("src/lib.rs").is_file())
        .collect();
    crates.sort();
    for crate_dir in crates {
        let lib = crate_dir.join("src/lib.rs");
        let source =
            std::fs::read_to_string(&lib).map_err(|e| format!("{}: {e}", lib.display()))?;
        let name = crate_dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        readmes.push((crate_dir, readme(&name, &source)));
    }
    Ok(readmes)
}

/// The README of crate `name` from its `lib.rs`.
fn readme(name: &str, lib: &str) -> String {
    let doc: Vec<&str> = lib
        .lines()
        .map_while(|line| line.strip_prefix("//!"))
        .map(|line| line.strip_prefix(' ').unwrap_or(line))
        .collect();
    let mut out = format!("# {name}\n\n");
    let mut in_example = false;
    let mut examples = 0;
    for line in doc {
        let fence = line.trim_start().starts_with("```");
        if fence && !in_example {
            examples += 1;
            if examples > 1 {
                break;
            }
            in_example = true;
            out.push_str("```rust\n");
            continue;
        }
        if fence {
            in_example = false;
            out.push_str("```\n");
            continue;
        }
        if in_example && (line.trim_start().starts_with("# ") || line.trim() == "#") {
            continue;
        }
        if examples > 0 && !in_example && !line.is_empty() {
            // Text after the example belongs to the API docs, not the README.
            break;
        }
        if in_example {
            out.push_str(line);
        } else {
            out.push_str(&unlinked(line));
        }
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    let _ = writeln!(
        out,
        "\nPart of the [ghcr workspace](https://github.com/ghcr-rs/ghcr); API documentation on [docs.rs](https://docs.rs/{name})."
    );
    out
}

/// Text with rustdoc's intra-doc links (`[`Name`]`, `[text](path)` to an
/// item) turned into plain code or text: they resolve only on docs.rs.
fn unlinked(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find(']') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let text = &after[..close];
        let tail = &after[close + 1..];
        let target = tail
            .strip_prefix('(')
            .and_then(|t| t.find(')').map(|end| (&t[..end], &t[end + 1..])));
        match target {
            // A real URL stays a link.
            Some((url, next)) if url.contains("://") => {
                let _ = write!(out, "[{text}]({url})");
                rest = next;
            }
            Some((_, next)) => {
                out.push_str(text);
                rest = next;
            }
            None => {
                out.push_str(text);
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_loses_its_hidden_lines_and_the_text_after_it() {
        let lib = "//! What it is.\n//!\n//! ```\n//! # let hidden = 1;\n//! let shown = 2;\n//! #\n//! ```\n//!\n//! More API text.\n\nfn main() {}\n";
        let got = readme("demo", lib);
        assert!(got.starts_with("# demo\n\nWhat it is.\n\n```rust\nlet shown = 2;\n```\n"));
        assert!(
            !got.contains("hidden") && !got.contains("More API text"),
            "{got}"
        );
        assert!(got.contains("https://docs.rs/demo"), "{got}");
    }

    #[test]
    fn intra_doc_links_become_text_and_urls_stay() {
        assert_eq!(
            unlinked("a [`Reference`], [the client](crate::Client) and [docs](https://x.example)."),
            "a `Reference`, the client and [docs](https://x.example)."
        );
        assert_eq!(unlinked("no [closing"), "no [closing");
    }

    #[test]
    fn readmes_are_up_to_date() {
        let root = project_root();
        for (dir, text) in expected(&root).unwrap() {
            let path = dir.join("README.md");
            let found = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                found == text,
                "{} is out of date with its src/lib.rs: run `cargo xtask readmes`",
                path.display()
            );
        }
    }
}
