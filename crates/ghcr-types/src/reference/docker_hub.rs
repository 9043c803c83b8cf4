//! Docker Hub's many names, as distribution's `ParseNormalizedNamed` and
//! the Docker CLI treat them: `docker.io`, `index.docker.io`,
//! `registry-1.docker.io` and `registry.hub.docker.com` are one registry,
//! written `docker.io`; a single-component name there is an official image
//! under `library/`; requests go to the API host `registry-1.docker.io`;
//! and `docker login` keeps its credentials under
//! `https://index.docker.io/v1/`.

/// Docker Hub as references write it.
pub const DOCKER_HUB: &str = "docker.io";

/// The host Docker Hub's registry API answers on.
pub const DOCKER_HUB_API: &str = "registry-1.docker.io";

/// The Docker config key `docker login` writes for Docker Hub.
pub const DOCKER_HUB_CONFIG_KEY: &str = "https://index.docker.io/v1/";

const ALIASES: [&str; 4] = [
    DOCKER_HUB,
    "index.docker.io",
    DOCKER_HUB_API,
    "registry.hub.docker.com",
];

/// Whether `host` is one of Docker Hub's names (without case).
pub fn is_docker_hub(host: &str) -> bool {
    ALIASES.iter().any(|alias| alias.eq_ignore_ascii_case(host))
}

/// `docker.io` for any of Docker Hub's names, else `host` as given.
pub fn canonical_registry(host: &str) -> &str {
    if is_docker_hub(host) {
        DOCKER_HUB
    } else {
        host
    }
}

/// Whether two registry hosts name the same registry (Docker Hub's
/// aliases are one; others compare without case).
pub fn same_registry(a: &str, b: &str) -> bool {
    canonical_registry(a).eq_ignore_ascii_case(canonical_registry(b))
}

/// The host requests for `registry` go to.
pub fn api_host(registry: &str) -> &str {
    if is_docker_hub(registry) {
        DOCKER_HUB_API
    } else {
        registry
    }
}

/// The repository path Docker Hub means: `alpine` is `library/alpine`.
pub(super) fn repository(registry: &str, repository: &str) -> Option<String> {
    (is_docker_hub(registry) && !repository.contains('/')).then(|| format!("library/{repository}"))
}
