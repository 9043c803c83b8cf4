//! Tarballs: images pushed straight from `docker save` archives and OCI
//! layout tarballs (plain or gzip, told apart by content, never unpacked to
//! disk), and pulled into either kind for `docker load -i`, `podman load`
//! or `skopeo copy oci-archive:`.
//!
//! A tarball is catalogued in one pass ([`catalog`]): member names
//! leaving the tarball are refused, links are followed only inside it, and
//! every member an image needs is checked for presence and size before
//! anything is sent.

mod catalog;
mod image;
mod push;
mod write;

pub use write::ArchiveFormat;

#[cfg(test)]
mod tests;
