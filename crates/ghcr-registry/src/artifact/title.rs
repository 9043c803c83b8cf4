//! Which file titles are safe to write inside a folder: relative paths
//! without `..`, `.` or empty components, NUL bytes or backslashes, each
//! used once, and none both a file and the folder of another.

use std::collections::BTreeSet;

/// Why `title` cannot name a file inside a folder, or `None` when it can.
pub(crate) fn unsafe_reason(title: &str) -> Option<&'static str> {
    if title.is_empty() {
        return Some("is empty");
    }
    if title.contains('\0') {
        return Some("contains a NUL byte");
    }
    if title.contains('\\') {
        return Some("contains a backslash");
    }
    if title.starts_with('/') {
        return Some("is an absolute path");
    }
    if title.split('/').any(|part| part == "..") {
        return Some("has a `..` component");
    }
    if title.split('/').any(|part| part.is_empty() || part == ".") {
        return Some("has an empty or `.` component");
    }
    None
}

/// The first title that is unsafe, repeated, or also the folder of
/// another title, with the reason.
pub(crate) fn check_all<'a>(
    titles: impl IntoIterator<Item = &'a str>,
) -> Result<(), (&'a str, &'static str)> {
    let mut seen = BTreeSet::new();
    for title in titles {
        if let Some(reason) = unsafe_reason(title) {
            return Err((title, reason));
        }
        if !seen.insert(title) {
            return Err((title, "is used by more than one layer"));
        }
    }
    // `a` and `a/b` cannot both be written: one would be a file and a folder.
    for title in &seen {
        for (at, _) in title.match_indices('/') {
            if let Some(folder) = seen.get(&title[..at]) {
                return Err((folder, "names a file and also the folder of another title"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_that_leave_the_folder_are_refused() {
        for (title, expected) in [
            ("notes.txt", None),
            ("docs/notes.txt", None),
            ("..notes", None),
            ("a..b/c", None),
            ("", Some("is empty")),
            ("../evil", Some("has a `..` component")),
            ("a/../../b", Some("has a `..` component")),
            ("a/..", Some("has a `..` component")),
            ("..", Some("has a `..` component")),
            ("/abs", Some("is an absolute path")),
            ("//host/share", Some("is an absolute path")),
            ("a\\..\\b", Some("contains a backslash")),
            ("C:\\evil", Some("contains a backslash")),
            ("nul\0byte", Some("contains a NUL byte")),
            ("./x", Some("has an empty or `.` component")),
            ("a//b", Some("has an empty or `.` component")),
            ("dir/", Some("has an empty or `.` component")),
            (".", Some("has an empty or `.` component")),
        ] {
            assert_eq!(unsafe_reason(title), expected, "{title:?}");
        }
    }

    #[test]
    fn titles_are_used_once_and_never_as_a_folder() {
        for (titles, expected) in [
            (&["a", "b", "c/d"][..], Ok(())),
            (&["a/b", "a/c"][..], Ok(())),
            (&["ab", "a/b"][..], Ok(())),
            (
                &["a", "b", "a"][..],
                Err(("a", "is used by more than one layer")),
            ),
            (
                &["a/b/c", "a"][..],
                Err(("a", "names a file and also the folder of another title")),
            ),
            (
                &["x", "a/b", "a/b/c"][..],
                Err(("a/b", "names a file and also the folder of another title")),
            ),
            (
                &["ok", "../evil"][..],
                Err(("../evil", "has a `..` component")),
            ),
        ] {
            assert_eq!(check_all(titles.iter().copied()), expected, "{titles:?}");
        }
    }
}
