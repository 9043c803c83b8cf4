//! `Link` headers (RFC 8288) as registries and GitHub send them for
//! pagination: the `rel="next"` target, from any number of header values,
//! quoted or bare parameters, several relation types, any case.

/// The `rel="next"` target among the values of `Link` headers.
pub fn next_link<'a>(values: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    values.into_iter().find_map(|value| {
        links(value).find_map(|(url, rels)| {
            rels.iter()
                .any(|r| r.eq_ignore_ascii_case("next"))
                .then_some(url)
        })
    })
}

/// Each `<url>; param=value; …` of one header value, with its `rel` values.
fn links(value: &str) -> impl Iterator<Item = (&str, Vec<&str>)> {
    let mut rest = value;
    std::iter::from_fn(move || {
        let start = rest.find('<')?;
        let after = &rest[start + 1..];
        let end = after.find('>')?;
        let url = after[..end].trim();
        let params_and_more = &after[end + 1..];
        // Parameters run to the next comma outside quotes.
        let mut in_quotes = false;
        let mut stop = params_and_more.len();
        for (index, c) in params_and_more.char_indices() {
            match c {
                '"' => in_quotes = !in_quotes,
                ',' if !in_quotes => {
                    stop = index;
                    break;
                }
                _ => {}
            }
        }
        let params = &params_and_more[..stop];
        rest = params_and_more.get(stop + 1..).unwrap_or_default();
        let rels = params
            .split(';')
            .filter_map(|param| param.split_once('='))
            .filter(|(name, _)| name.trim().eq_ignore_ascii_case("rel"))
            .flat_map(|(_, value)| value.trim().trim_matches('"').split_whitespace())
            .collect();
        Some((url, rels))
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// A `Link` header comes from the network: any text gives a target
        /// found inside its angle brackets, or none, and never a panic.
        #[test]
        fn any_link_header_is_read_without_panicking(
            values in prop::collection::vec("([<>;,=\" ]|rel|next|\\PC){0,40}", 0..3),
        ) {
            if let Some(url) = next_link(values.iter().map(String::as_str)) {
                let found = values.iter().any(|value| value.contains(url));
                prop_assert!(found, "{} not in {:?}", url, values);
            }
        }
    }

    #[test]
    fn next_links() {
        let table: [(&[&str], Option<&str>); 8] = [
            (
                &[
                    r#"<https://api.github.com/x?page=2>; rel="next", <https://api.github.com/x?page=9>; rel="last""#,
                ],
                Some("https://api.github.com/x?page=2"),
            ),
            (
                &[r#"<https://a/x?page=1>; rel="prev", <https://a/x?page=3>; rel="next""#],
                Some("https://a/x?page=3"),
            ),
            // Only prev/first: the last page.
            (
                &[r#"<https://a/x?page=1>; rel="prev", <https://a/x?page=1>; rel="first""#],
                None,
            ),
            // Unquoted, upper case, several rel values, extra params.
            (
                &["<https://a/n>; title=\"a, b\"; REL=next"],
                Some("https://a/n"),
            ),
            (&[r#"<https://a/n>; rel="last next""#], Some("https://a/n")),
            // Spread over several header values.
            (
                &[
                    r#"<https://a/p>; rel="prev""#,
                    r#"<https://a/n>; rel="next""#,
                ],
                Some("https://a/n"),
            ),
            (&["garbage without brackets"], None),
            (&[""], None),
        ];
        for (values, expected) in table {
            assert_eq!(next_link(values.iter().copied()), expected, "{values:?}");
        }
    }

    #[test]
    fn registry_tag_list_links() {
        for (value, expected) in [
            (
                r#"</v2/o/a/tags/list?n=2&last=b>; rel="next""#,
                Some("/v2/o/a/tags/list?n=2&last=b"),
            ),
            (r"<https://r/x>;rel=next", Some("https://r/x")),
            (
                r#"<https://r/p>; rel="prev", <https://r/n>; rel="next""#,
                Some("https://r/n"),
            ),
            (r#"<https://r/p>; rel="prev""#, None),
            ("garbage", None),
        ] {
            assert_eq!(next_link([value]), expected, "{value}");
        }
    }
}
