//! Integration tests of ghcr-types through its public API, against data
//! that comes from outside this repository (GitHub's documented examples).

mod github_json;
mod real_shapes;
