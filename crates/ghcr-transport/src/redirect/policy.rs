//! What the next hop of a redirect looks like: a pure decision on status,
//! method and origins.

use http::{Method, StatusCode, Uri};

/// How to follow one redirect.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Hop {
    /// Send the same method and body to the new location (307, 308).
    Repeat,
    /// Switch to GET without a body (303; 301 and 302 after a POST).
    Get,
}

/// Whether `status` is a redirect to follow, and how.
pub(crate) fn hop(status: StatusCode, method: &Method) -> Option<Hop> {
    match status.as_u16() {
        303 => Some(Hop::Get),
        301 | 302 if *method == Method::POST => Some(Hop::Get),
        301 | 302 | 307 | 308 => Some(Hop::Repeat),
        _ => None,
    }
}

/// Resolves a `Location` against the URL that answered with it.
pub(crate) fn resolve(base: &Uri, location: &str) -> Option<Uri> {
    let parsed: Uri = location.parse().ok()?;
    if parsed.scheme().is_some() {
        return parsed.authority().is_some().then_some(parsed);
    }
    let mut parts = base.clone().into_parts();
    if location.starts_with("//") {
        // Scheme-relative: keep the scheme, take authority and path from the location.
        let absolute: Uri = format!("{}:{location}", base.scheme_str()?).parse().ok()?;
        return Some(absolute);
    }
    let path_and_query = if location.starts_with('/') {
        location.to_owned()
    } else {
        let directory = base.path().rsplit_once('/').map_or("", |(dir, _)| dir);
        format!("{directory}/{location}")
    };
    parts.path_and_query = Some(path_and_query.parse().ok()?);
    Uri::from_parts(parts).ok()
}

/// Scheme, host and port all equal (default ports made explicit).
pub(crate) fn same_origin(a: &Uri, b: &Uri) -> bool {
    a.scheme_str() == b.scheme_str() && a.host() == b.host() && port_of(a) == port_of(b)
}

fn port_of(uri: &Uri) -> Option<u16> {
    uri.port_u16().or(match uri.scheme_str() {
        Some("https") => Some(443),
        Some("http") => Some(80),
        _ => None,
    })
}

/// Never from https down to http.
pub(crate) fn is_downgrade(from: &Uri, to: &Uri) -> bool {
    from.scheme_str() == Some("https") && to.scheme_str() != Some("https")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(s: &str) -> Uri {
        s.parse().unwrap()
    }

    #[test]
    fn hops() {
        assert_eq!(
            hop(StatusCode::TEMPORARY_REDIRECT, &Method::GET),
            Some(Hop::Repeat)
        );
        assert_eq!(
            hop(StatusCode::PERMANENT_REDIRECT, &Method::PUT),
            Some(Hop::Repeat)
        );
        assert_eq!(hop(StatusCode::SEE_OTHER, &Method::PUT), Some(Hop::Get));
        assert_eq!(hop(StatusCode::FOUND, &Method::POST), Some(Hop::Get));
        assert_eq!(
            hop(StatusCode::MOVED_PERMANENTLY, &Method::GET),
            Some(Hop::Repeat)
        );
        assert_eq!(hop(StatusCode::NOT_MODIFIED, &Method::GET), None);
        assert_eq!(hop(StatusCode::OK, &Method::GET), None);
    }

    #[test]
    fn resolution() {
        let base = uri("https://ghcr.io/v2/o/a/blobs/sha256:x?y=1");
        assert_eq!(
            resolve(&base, "https://pkg.example/x?sig=1").unwrap(),
            uri("https://pkg.example/x?sig=1")
        );
        assert_eq!(
            resolve(&base, "/v2/o/b").unwrap(),
            uri("https://ghcr.io/v2/o/b")
        );
        assert_eq!(
            resolve(&base, "other").unwrap(),
            uri("https://ghcr.io/v2/o/a/blobs/other")
        );
        assert_eq!(
            resolve(&base, "//cdn.example/p").unwrap(),
            uri("https://cdn.example/p")
        );
        assert!(resolve(&base, "not a uri").is_none());
    }

    #[test]
    fn origins() {
        assert!(same_origin(
            &uri("https://ghcr.io/a"),
            &uri("https://ghcr.io:443/b")
        ));
        assert!(!same_origin(
            &uri("https://ghcr.io/a"),
            &uri("https://pkg.example/b")
        ));
        assert!(!same_origin(
            &uri("http://127.0.0.1:1/a"),
            &uri("http://127.0.0.1:2/a")
        ));
        assert!(!same_origin(
            &uri("http://ghcr.io/a"),
            &uri("https://ghcr.io/a")
        ));
        assert!(is_downgrade(&uri("https://a/"), &uri("http://a/")));
        assert!(!is_downgrade(&uri("http://a/"), &uri("https://a/")));
    }
}
