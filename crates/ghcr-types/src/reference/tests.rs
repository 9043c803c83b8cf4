//! Table tests from the distribution grammar's own examples and edge cases,
//! plus a property test of the display/parse round trip.

use proptest::prelude::*;

use super::*;

const D: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// `expected` is `(registry, repository, tag, digest)` or the start of the error reason.
fn check(input: &str, expected: std::result::Result<(&str, &str, Option<&str>, bool), &str>) {
    let parsed = Reference::parse(input);
    match (parsed, expected) {
        (Ok(r), Ok((registry, repository, tag, has_digest))) => {
            assert_eq!(r.registry(), registry, "{input}");
            assert_eq!(r.repository(), repository, "{input}");
            assert_eq!(r.tag().map(Tag::as_str), tag, "{input}");
            assert_eq!(r.digest().is_some(), has_digest, "{input}");
            let shown = r.to_string();
            assert_eq!(
                Reference::parse(&shown).unwrap(),
                r,
                "round trip of {input} via {shown}"
            );
        }
        (Err(Error::InvalidReference { input: got, reason }), Err(want)) => {
            assert_eq!(got, input);
            assert!(
                reason.contains(want),
                "{input}: reason `{reason}` lacks `{want}`"
            );
        }
        (got, want) => panic!("{input}: got {got:?}, wanted {want:?}"),
    }
}

#[test]
fn valid_references() {
    check("octo/app", Ok(("ghcr.io", "octo/app", None, false)));
    check(
        "octo/app:v1.2.3",
        Ok(("ghcr.io", "octo/app", Some("v1.2.3"), false)),
    );
    check(
        "ghcr.io/octo/app:latest",
        Ok(("ghcr.io", "octo/app", Some("latest"), false)),
    );
    check(
        "ghcr.io/octo/team/app",
        Ok(("ghcr.io", "octo/team/app", None, false)),
    );
    check(
        &format!("ghcr.io/octo/app@{D}"),
        Ok(("ghcr.io", "octo/app", None, true)),
    );
    check(
        &format!("ghcr.io/octo/app:v1@{D}"),
        Ok(("ghcr.io", "octo/app", Some("v1"), true)),
    );
    check("localhost/app", Ok(("localhost", "app", None, false)));
    check(
        "localhost:5000/app:tag",
        Ok(("localhost:5000", "app", Some("tag"), false)),
    );
    check(
        "127.0.0.1:5000/a/b",
        Ok(("127.0.0.1:5000", "a/b", None, false)),
    );
    check("[::1]:5000/app", Ok(("[::1]:5000", "app", None, false)));
    check(
        "[2001:db8::1]/app:x",
        Ok(("[2001:db8::1]", "app", Some("x"), false)),
    );
    // docker's rule: an uppercase first component is a host, not an owner.
    check("Octo/app", Ok(("Octo", "app", None, false)));
    check(
        "Registry.Example.com/app",
        Ok(("Registry.Example.com", "app", None, false)),
    );
    check(
        "registry-1.docker.io/library/alpine",
        Ok(("docker.io", "library/alpine", None, false)),
    );
    check(
        "containers.example.com/o/a.b_c__d---e",
        Ok(("containers.example.com", "o/a.b_c__d---e", None, false)),
    );
    check(
        "octo/app:_under",
        Ok(("ghcr.io", "octo/app", Some("_under"), false)),
    );
    check(
        &format!("octo/app:{}", "t".repeat(128)),
        Ok(("ghcr.io", "octo/app", Some(&"t".repeat(128)), false)),
    );
    check(
        &format!("o/{}", "a".repeat(253)),
        Ok(("ghcr.io", &format!("o/{}", "a".repeat(253)), None, false)),
    );
}

#[test]
fn invalid_references() {
    check("", Err("empty"));
    check("app", Err("owner"));
    check("ghcr.io/app", Err("owner"));
    check("octo/App", Err("lowercase"));
    check("octo/app/", Err("empty"));
    check("octo//app", Err("empty"));
    check("/octo/app", Err("empty"));
    check("octo/a..b", Err("separator `..`"));
    check("octo/a._b", Err("separator"));
    check("octo/a___b", Err("separator"));
    check("octo/-app", Err("start and end"));
    check("octo/app-", Err("start and end"));
    check("octo/app.", Err("start and end"));
    check("octo/app:", Err("tag"));
    check("octo/app:.x", Err("tag"));
    check("octo/app:-x", Err("tag"));
    check(
        &format!("octo/app:{}", "t".repeat(129)),
        Err("limit is 128"),
    );
    check("octo/app:a/b", Err("tag `a/b`"));
    check("octo/app@sha256:abc", Err("digest"));
    check("octo/app@", Err("digest"));
    check(&format!("o/{}", "a".repeat(254)), Err("limit is 255"));
    check("ghcr.io:99999/o/a", Err("port"));
    check("ghcr.io:/o/a", Err("port"));
    check("ghcr.io:0/o/a", Err("port"));
    check("[::1/app", Err("closing"));
    check("[nothex]:5000/app", Err("IPv6"));
    check("bad_host.com/o/a", Err("host label"));
    check("-bad.com/o/a", Err("host label"));
    check("host..com/o/a", Err("empty label"));
    check("octo/ap p", Err("holds ` `"));
    check("octo/app:t@g", Err("digest"));
}

#[test]
fn default_registry_is_configurable() {
    let r = Reference::parse_in("team/tool:1", "registry.example:5000").unwrap();
    assert_eq!(r.to_string(), "registry.example:5000/team/tool:1");
    // Bare names are fine outside ghcr.io.
    let bare = Reference::parse_in("tool", "localhost:5000").unwrap();
    assert_eq!(bare.repository(), "tool");
    assert!(Reference::parse_in("tool", "bad host").is_err());
}

#[test]
fn accessors_for_ghcr_packages() {
    let r = Reference::parse("ghcr.io/octo/team/app:v1").unwrap();
    assert_eq!(r.owner(), "octo");
    assert_eq!(r.package_name(), "team/app");
    assert_eq!(r.manifest_reference(), "v1");
    assert_eq!(r.without_tag_or_digest().manifest_reference(), "latest");
    let pinned = r.with_digest(D.parse().unwrap());
    assert_eq!(pinned.manifest_reference(), D);
    assert_eq!(pinned.to_string(), format!("ghcr.io/octo/team/app:v1@{D}"));
    assert_eq!(
        r.with_tag("v2").unwrap().to_string(),
        "ghcr.io/octo/team/app:v2"
    );
    assert!(r.with_tag("bad tag").is_err());
    assert_eq!(
        r.with_repository("octo/other").unwrap().to_string(),
        "ghcr.io/octo/other:v1"
    );
    assert!(Reference::new("ghcr.io", "octo/app:tag").is_err());
    assert_eq!(
        Reference::new("localhost:1", "a/b").unwrap().to_string(),
        "localhost:1/a/b"
    );
}

/// Found by `cargo xtask fuzz reference`: a path whose first component has a
/// dot (`my.team`) parses inside a full reference, so the parts it parsed
/// to must build the same reference again, and `with_repository` must take it.
#[test]
fn parts_with_a_dotted_first_component_build_the_same_reference() {
    let parsed = Reference::parse("localhost:5000/my.team/app:v1").unwrap();
    assert_eq!(parsed.repository(), "my.team/app");
    let built = Reference::new(parsed.registry(), parsed.repository()).unwrap();
    assert_eq!(built, parsed.without_tag_or_digest());
    assert_eq!(
        parsed.with_repository("localhost/app").unwrap().to_string(),
        "localhost:5000/localhost/app:v1"
    );
    // The parts are still checked one by one.
    for (registry, repository) in [
        ("localhost:5000", "my.team/App"),
        ("localhost:5000", "team/app@sha256:abc"),
        ("bad host", "team/app"),
        ("ghcr.io", "app"),
    ] {
        assert!(
            Reference::new(registry, repository).is_err(),
            "{registry} {repository}"
        );
    }
}

#[test]
fn serde_uses_the_text_form() {
    let r = Reference::parse("ghcr.io/octo/app:v1").unwrap();
    let json = serde_json::to_string(&r).unwrap();
    assert_eq!(json, "\"ghcr.io/octo/app:v1\"");
    assert_eq!(serde_json::from_str::<Reference>(&json).unwrap(), r);
    assert!(serde_json::from_str::<Reference>("\"Bad/Ref\"").is_err());
}

fn component() -> impl Strategy<Value = String> {
    "[a-z0-9]{1,6}((\\.|_|__|-{1,3})[a-z0-9]{1,6}){0,2}"
}

fn registry() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("ghcr.io".to_owned()),
        Just("localhost:5000".to_owned()),
        Just("[::1]:443".to_owned()),
        "[a-z][a-z0-9-]{0,8}[a-z0-9]\\.[a-z]{2,5}(:[1-9][0-9]{0,3})?",
    ]
}

proptest! {
    #[test]
    fn display_round_trips(
        registry in registry(),
        owner in component(),
        rest in proptest::collection::vec(component(), 1..3),
        tag in proptest::option::of("[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}"),
        digest in proptest::option::of("[0-9a-f]{64}"),
    ) {
        let mut text = format!("{registry}/{owner}");
        for part in &rest {
            text.push('/');
            text.push_str(part);
        }
        if let Some(tag) = &tag {
            text.push(':');
            text.push_str(tag);
        }
        if let Some(hex) = &digest {
            text.push_str("@sha256:");
            text.push_str(hex);
        }
        let parsed = Reference::parse(&text).unwrap();
        prop_assert_eq!(parsed.to_string(), text.clone());
        prop_assert_eq!(Reference::parse(&parsed.to_string()).unwrap(), parsed);
    }

    #[test]
    fn never_panics(input in "\\PC{0,80}") {
        let _ = Reference::parse(&input);
    }
}

/// Docker Hub's forms, as distribution's `ParseNormalizedNamed` (its
/// `normalize_test.go` table) and the Docker CLI read them: every alias is
/// `docker.io`, single names are under `library/`, and requests go to
/// `registry-1.docker.io`. Without a host a name stays on the default
/// registry, unless that default is Docker Hub.
#[test]
fn docker_hub_forms_normalise_as_distribution_does() {
    for (input, default, registry, repository) in [
        ("docker.io/alpine", "ghcr.io", "docker.io", "library/alpine"),
        (
            "docker.io/library/alpine",
            "ghcr.io",
            "docker.io",
            "library/alpine",
        ),
        (
            "index.docker.io/alpine",
            "ghcr.io",
            "docker.io",
            "library/alpine",
        ),
        (
            "registry-1.docker.io/library/alpine",
            "ghcr.io",
            "docker.io",
            "library/alpine",
        ),
        (
            "registry.hub.docker.com/foo/bar",
            "ghcr.io",
            "docker.io",
            "foo/bar",
        ),
        ("docker.io/foo/bar", "ghcr.io", "docker.io", "foo/bar"),
        ("alpine", "docker.io", "docker.io", "library/alpine"),
        ("foo/bar", "docker.io", "docker.io", "foo/bar"),
        ("foo/bar", "ghcr.io", "ghcr.io", "foo/bar"),
        (
            "localhost:5000/alpine",
            "docker.io",
            "localhost:5000",
            "alpine",
        ),
        (
            "docker.io.example.com/alpine",
            "ghcr.io",
            "docker.io.example.com",
            "alpine",
        ),
    ] {
        let parsed = Reference::parse_in(input, default).unwrap();
        assert_eq!(parsed.registry(), registry, "{input}");
        assert_eq!(parsed.repository(), repository, "{input}");
        let api = if registry == "docker.io" {
            "registry-1.docker.io"
        } else {
            registry
        };
        assert_eq!(parsed.api_host(), api, "{input}");
        assert_eq!(
            Reference::parse_in(&parsed.to_string(), default).unwrap(),
            parsed
        );
    }
    let tagged = Reference::parse("docker.io/alpine:3.20").unwrap();
    assert_eq!(tagged.to_string(), "docker.io/library/alpine:3.20");
    assert_eq!(
        Reference::new("index.docker.io", "nginx")
            .unwrap()
            .repository(),
        "library/nginx"
    );
    assert!(docker_hub::same_registry("index.docker.io", "docker.io"));
    assert!(!docker_hub::same_registry("docker.io", "ghcr.io"));
}
