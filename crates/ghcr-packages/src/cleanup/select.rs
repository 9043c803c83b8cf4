//! Which of an owner's packages a cleanup covers: globs (`*`, `app-*`,
//! `team/?pi`) that add packages and `!`-globs that take them out again.

use std::fmt;

use crate::error::{Error, Result};

/// A choice of packages by name.
///
/// A name is chosen when some pattern without `!` matches it (or there
/// are only `!` patterns) and no `!` pattern does. `*` matches any run of
/// characters (`/` included: `team/*` is every package under `team/`), `?`
/// one character; everything else is itself. A pattern matches the whole
/// name, compared without case, as GitHub compares package names.
///
/// ```
/// use ghcr_packages::PackageSelection;
///
/// let chosen = PackageSelection::parse(["app-*", "!app-legacy-*"])?;
/// assert!(chosen.matches("app-web"));
/// assert!(!chosen.matches("app-legacy-1"));
/// assert!(!chosen.matches("tools"));
/// assert!(PackageSelection::parse(["!tools"])?.matches("app"));
/// assert!(PackageSelection::parse([""]).is_err());
/// # Ok::<(), ghcr_packages::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackageSelection {
    include: Vec<String>,
    exclude: Vec<String>,
}

impl PackageSelection {
    /// Every package.
    pub fn all() -> Self {
        Self {
            include: vec!["*".to_owned()],
            exclude: Vec::new(),
        }
    }

    /// The packages `patterns` choose.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidPolicy`] for no patterns, an empty pattern, or one
    /// with characters no package name has.
    pub fn parse<I, S>(patterns: I) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut selection = Self {
            include: Vec::new(),
            exclude: Vec::new(),
        };
        for pattern in patterns {
            let pattern = pattern.as_ref().trim();
            let (list, glob) = match pattern.strip_prefix('!') {
                Some(rest) => (&mut selection.exclude, rest),
                None => (&mut selection.include, pattern),
            };
            if glob.is_empty() {
                return Err(invalid(format!(
                    "an empty package pattern `{pattern}`; name packages like `app`, `app-*` or `!legacy-*`"
                )));
            }
            if let Some(bad) = glob.chars().find(|c| {
                !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | '*' | '?'))
            }) {
                return Err(invalid(format!(
                    "package pattern `{pattern}` has `{bad}`, which no package name has (use `*` and `?` as wildcards)"
                )));
            }
            list.push(glob.to_ascii_lowercase());
        }
        if selection.include.is_empty() && selection.exclude.is_empty() {
            return Err(invalid(
                "no package pattern; give one, `*` for every package".into(),
            ));
        }
        if selection.include.is_empty() {
            selection.include.push("*".to_owned());
        }
        Ok(selection)
    }

    /// Whether the package called `name` is chosen.
    pub fn matches(&self, name: &str) -> bool {
        let name = name.to_ascii_lowercase();
        self.include.iter().any(|glob| glob_matches(glob, &name))
            && !self.exclude.iter().any(|glob| glob_matches(glob, &name))
    }

    /// The one package this names, when it is a single name without
    /// wildcards (no listing is needed then).
    pub fn single(&self) -> Option<&str> {
        match (self.include.as_slice(), self.exclude.is_empty()) {
            ([only], true) if !only.contains(['*', '?']) => Some(only),
            _ => None,
        }
    }
}

impl fmt::Display for PackageSelection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let patterns: Vec<String> = self
            .include
            .iter()
            .cloned()
            .chain(self.exclude.iter().map(|glob| format!("!{glob}")))
            .collect();
        f.write_str(&patterns.join(" "))
    }
}

fn invalid(reason: String) -> Error {
    Error::InvalidPolicy { reason }
}

/// Whether `glob` (`*`, `?`, literals) matches all of `name`: the greedy
/// two-pointer walk, going back to the last `*` on a mismatch.
fn glob_matches(glob: &str, name: &str) -> bool {
    let glob: Vec<char> = glob.chars().collect();
    let name: Vec<char> = name.chars().collect();
    let (mut g, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match glob.get(g) {
            Some('*') => {
                star = Some((g, n));
                g += 1;
            }
            Some(&c) if c == '?' || c == name[n] => {
                g += 1;
                n += 1;
            }
            _ => match star {
                Some((star_g, star_n)) => {
                    g = star_g + 1;
                    n = star_n + 1;
                    star = Some((star_g, star_n + 1));
                }
                None => return false,
            },
        }
    }
    glob[g..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_whole_names() {
        for (glob, name, expected) in [
            ("*", "anything/at-all", true),
            ("app-*", "app-", true),
            ("app-*", "app", false),
            ("app-*", "my-app-web", false),
            ("*-web", "app-web", true),
            ("a*b*c", "aXXbYYc", true),
            ("a*b*c", "aXXbYY", false),
            ("team/?pi", "team/api", true),
            ("team/?pi", "team/xapi", false),
            ("exact", "exact", true),
            ("exact", "exactly", false),
            ("**", "", true),
        ] {
            assert_eq!(glob_matches(glob, name), expected, "{glob} {name}");
        }
    }

    #[test]
    fn exclusions_win_and_case_is_ignored() {
        let chosen = PackageSelection::parse(["*", "!legacy-*", "!tools"]).unwrap();
        assert!(chosen.matches("App"));
        assert!(!chosen.matches("Legacy-1"));
        assert!(!chosen.matches("tools"));
        assert_eq!(chosen.to_string(), "* !legacy-* !tools");
        assert_eq!(chosen.single(), None);
        assert_eq!(
            PackageSelection::parse(["app"]).unwrap().single(),
            Some("app")
        );
        for bad in [vec![], vec!["!"], vec!["app name"], vec!["a,b"]] {
            assert!(PackageSelection::parse(&bad).is_err(), "{bad:?}");
        }
    }
}
