//! One pass over a tarball: which members it holds and where their bytes
//! are, without unpacking anything to disk. Small JSON members (manifests,
//! configs, `index.json`, `manifest.json`) are kept in memory; members not
//! named by their digest (a `docker save` layer, `<id>/layer.tar`) are
//! hashed on the way.

use std::collections::HashMap;
use std::io::{BufReader, Read};
use std::path::{Component, Path, PathBuf};

use bytes::Bytes;
use ghcr_types::{Algorithm, Digest, MAX_MANIFEST_SIZE};

use crate::error::{Error, Result};

/// At most this many bytes of JSON members are kept in memory.
const MAX_KEPT: usize = 64 * 1024 * 1024;

/// At most this many members (a real image has tens).
const MAX_MEMBERS: usize = 100_000;

/// How the tar stream is stored in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Compression {
    /// A plain tar: members are read in place, in parallel.
    None,
    /// A gzip-compressed tar: members are read in one pass, in order.
    Gzip,
}

/// A regular file in the tarball.
#[derive(Clone, Debug)]
pub(crate) struct Member {
    /// Where its bytes start in the (decompressed) tar stream.
    pub(crate) offset: u64,
    pub(crate) size: u64,
    /// The bytes of a small JSON member.
    pub(crate) content: Option<Bytes>,
    /// The sha256 of a member not named by its digest.
    pub(crate) digest: Option<Digest>,
    /// Its first bytes, when it was read (a gzip layer starts `1f 8b`).
    pub(crate) head: Vec<u8>,
}

/// What a tarball holds.
#[derive(Debug)]
pub(crate) struct Catalog {
    pub(crate) path: PathBuf,
    pub(crate) compression: Compression,
    members: HashMap<String, Member>,
    /// Symbolic and hard links, to the member name they point at.
    links: HashMap<String, String>,
}

impl Catalog {
    /// Reads the tarball at `path` (blocking: call on the blocking pool).
    pub(crate) fn read(path: &Path) -> Result<Self> {
        let compression = sniff(path)?;
        let file = std::fs::File::open(path).map_err(|err| Error::io(path, err))?;
        let mut catalog = Self {
            path: path.to_path_buf(),
            compression,
            members: HashMap::new(),
            links: HashMap::new(),
        };
        let unreadable =
            |err: std::io::Error| Error::archive(path, format!("not a readable tar ({err})"));
        match compression {
            Compression::None => {
                let mut archive = tar::Archive::new(file);
                let entries = archive.entries_with_seek().map_err(unreadable)?;
                catalog.scan(entries)?;
            }
            Compression::Gzip => {
                let reader = flate2::read::GzDecoder::new(BufReader::new(file));
                let mut archive = tar::Archive::new(reader);
                let entries = archive.entries().map_err(unreadable)?;
                catalog.scan(entries)?;
            }
        }
        Ok(catalog)
    }

    fn scan<'a, R: Read + 'a>(
        &mut self,
        entries: impl Iterator<Item = std::io::Result<tar::Entry<'a, R>>>,
    ) -> Result<()> {
        let mut kept = 0usize;
        for entry in entries {
            let mut entry = entry.map_err(|err| self.damaged(&err))?;
            if self.members.len() + self.links.len() >= MAX_MEMBERS {
                return Err(Error::archive(
                    &self.path,
                    format!("holds more than {MAX_MEMBERS} members; it is not an image"),
                ));
            }
            let raw = entry.path().map_err(|err| self.damaged(&err))?.into_owned();
            let name = member_name(&raw).map_err(|reason| Error::archive(&self.path, reason))?;
            let kind = entry.header().entry_type();
            if kind.is_symlink() || kind.is_hard_link() {
                let target = entry
                    .link_name()
                    .map_err(|err| self.damaged(&err))?
                    .ok_or_else(|| {
                        Error::archive(&self.path, format!("link `{name}` has no target"))
                    })?
                    .into_owned();
                let target = if kind.is_symlink() {
                    link_target(&name, &target)
                } else {
                    member_name(&target)
                }
                .map_err(|reason| Error::archive(&self.path, reason))?;
                self.links.insert(name, target);
                continue;
            }
            if !(kind.is_file() || kind.is_contiguous()) || name.is_empty() {
                continue;
            }
            let offset = entry.raw_file_position();
            let size = entry.size();
            let named_by_digest = digest_name(&name).is_some();
            let small = size <= MAX_MANIFEST_SIZE as u64;
            let mut member = Member {
                offset,
                size,
                content: None,
                digest: None,
                head: Vec::new(),
            };
            if small {
                let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
                entry
                    .read_to_end(&mut bytes)
                    .map_err(|err| self.damaged(&err))?;
                self.check_size(&name, size, bytes.len() as u64)?;
                member.head = bytes.iter().copied().take(8).collect();
                if !named_by_digest {
                    member.digest = Some(Digest::sha256_of(&bytes));
                }
                if looks_like_json(&bytes) {
                    kept += bytes.len();
                    if kept > MAX_KEPT {
                        return Err(Error::archive(
                            &self.path,
                            format!(
                                "holds more than {} MiB of JSON; it is not an image",
                                MAX_KEPT >> 20
                            ),
                        ));
                    }
                    member.content = Some(Bytes::from(bytes));
                }
            } else if !named_by_digest {
                let (digest, head, read) = hash(&mut entry).map_err(|err| self.damaged(&err))?;
                self.check_size(&name, size, read)?;
                member.digest = Some(digest);
                member.head = head;
            }
            self.members.insert(name, member);
        }
        Ok(())
    }

    /// The member called `name` (following links inside the tarball).
    pub(crate) fn get(&self, name: &str) -> Option<&Member> {
        let mut name = name.trim_start_matches("./").to_owned();
        for _ in 0..16 {
            if let Some(member) = self.members.get(&name) {
                return Some(member);
            }
            name = self.links.get(&name)?.clone();
        }
        None
    }

    /// The member called `name`, or an error saying the tarball lacks it.
    pub(crate) fn require(&self, name: &str, wanted_by: &str) -> Result<&Member> {
        self.get(name).ok_or_else(|| {
            Error::archive(
                &self.path,
                format!("{wanted_by} names `{name}`, which the tarball does not hold; it is incomplete or damaged, so write it again"),
            )
        })
    }

    /// The bytes of a small JSON member.
    pub(crate) fn json(&self, name: &str, wanted_by: &str) -> Result<Bytes> {
        let member = self.require(name, wanted_by)?;
        member.content.clone().ok_or_else(|| {
            Error::archive(
                &self.path,
                format!("`{name}` is not a JSON document of at most 4 MiB"),
            )
        })
    }

    fn check_size(&self, name: &str, size: u64, read: u64) -> Result<()> {
        if read == size {
            return Ok(());
        }
        Err(Error::archive(
            &self.path,
            format!(
                "member `{name}` is cut short ({read} of {size} bytes): the tarball is truncated"
            ),
        ))
    }

    fn damaged(&self, err: &std::io::Error) -> Error {
        Error::archive(
            &self.path,
            format!("the tar stream is damaged or truncated ({err})"),
        )
    }
}

/// `blobs/<alg>/<hex>`, as in an OCI layout.
pub(crate) fn blob_name(digest: &Digest) -> String {
    format!("blobs/{}/{}", digest.algorithm_name(), digest.encoded())
}

/// The digest a `blobs/<alg>/<hex>` member name gives.
pub(crate) fn digest_name(name: &str) -> Option<Digest> {
    let rest = name.strip_prefix("blobs/")?;
    let (algorithm, encoded) = rest.split_once('/')?;
    format!("{algorithm}:{encoded}").parse().ok()
}

/// Tells gzip from plain tar by the first bytes; other compressions get
/// an error saying how to decompress them.
fn sniff(path: &Path) -> Result<Compression> {
    let mut head = [0u8; 6];
    let mut file = std::fs::File::open(path).map_err(|err| Error::io(path, err))?;
    let read = file.read(&mut head).map_err(|err| Error::io(path, err))?;
    let head = head.get(..read).unwrap_or_default();
    let other = |name: &str, tool: &str| {
        Err(Error::archive(
            path,
            format!(
                "is {name}-compressed; decompress it first (`{tool}`) or save it uncompressed or with gzip"
            ),
        ))
    };
    match head {
        [0x1f, 0x8b, ..] => Ok(Compression::Gzip),
        [0x28, 0xb5, 0x2f, 0xfd, ..] => other("zstd", "zstd -d"),
        [0xfd, b'7', b'z', b'X', b'Z', 0] => other("xz", "xz -d"),
        [b'B', b'Z', b'h', ..] => other("bzip2", "bzip2 -d"),
        _ => Ok(Compression::None),
    }
}

/// A member's name with `./` dropped; absolute names and `..` are refused,
/// since a tarball with them is hostile or broken.
fn member_name(raw: &Path) -> std::result::Result<String, String> {
    let mut parts = Vec::new();
    for component in raw.components() {
        match component {
            Component::Normal(part) => parts.push(part.to_str().ok_or_else(|| {
                format!("member `{}` has a name that is not UTF-8", raw.display())
            })?),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => {
                return Err(format!(
                    "member `{}` points outside the tarball (absolute or `..`); refusing a hostile tarball",
                    raw.display()
                ));
            }
        }
    }
    Ok(parts.join("/"))
}

/// Where a symbolic link at `name` points, resolved inside the tarball.
fn link_target(name: &str, target: &Path) -> std::result::Result<String, String> {
    let outside = || {
        format!(
            "link `{name}` points outside the tarball (to `{}`); refusing a hostile tarball",
            target.display()
        )
    };
    let mut parts: Vec<&str> = name.split('/').collect();
    parts.pop();
    for component in target.components() {
        match component {
            Component::Normal(part) => parts.push(part.to_str().ok_or_else(outside)?),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop().ok_or_else(outside)?;
            }
            Component::RootDir | Component::Prefix(_) => return Err(outside()),
        }
    }
    Ok(parts.join("/"))
}

fn looks_like_json(bytes: &[u8]) -> bool {
    matches!(
        bytes.iter().find(|b| !b.is_ascii_whitespace()),
        Some(b'{' | b'[')
    )
}

/// The sha256, first bytes and length of what `reader` holds.
fn hash(reader: &mut impl Read) -> std::io::Result<(Digest, Vec<u8>, u64)> {
    let mut head = Vec::with_capacity(8);
    reader.take(8).read_to_end(&mut head)?;
    let (digest, total) = crate::files::copy_hashed(
        &mut head.as_slice().chain(reader),
        &mut std::io::sink(),
        Algorithm::Sha256,
    )?;
    Ok((digest, head, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_outside_the_tarball_are_refused() {
        for bad in ["../x", "/etc/passwd", "a/../../b", "blobs/../../x"] {
            assert!(member_name(Path::new(bad)).is_err(), "{bad}");
        }
        assert_eq!(member_name(Path::new("./a/./b")).unwrap(), "a/b");
        assert_eq!(
            link_target("abc/layer.tar", Path::new("../def/layer.tar")).unwrap(),
            "def/layer.tar"
        );
        assert!(link_target("layer.tar", Path::new("../../x")).is_err());
        assert!(link_target("a/b", Path::new("/x")).is_err());
    }

    #[test]
    fn blob_names_give_their_digest() {
        let digest = Digest::sha256_of(b"x");
        assert_eq!(digest_name(&blob_name(&digest)), Some(digest));
        assert_eq!(digest_name("abc/layer.tar"), None);
        assert_eq!(digest_name("blobs/sha256/not-hex"), None);
    }
}
