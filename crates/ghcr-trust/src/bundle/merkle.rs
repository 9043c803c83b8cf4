//! RFC 6962 inclusion proofs: the audit path from an entry's leaf hash
//! to the tree's root hash, and the checkpoint (a signed note) in which
//! the log signs that root hash and tree size.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest as _, Sha256};

use crate::bundle::parse::Proof;
use crate::ec::Hash;
use crate::error::{Error, Result};
use crate::trusted_root::LogKey;

fn fail(reason: &str) -> Error {
    Error::TransparencyLog {
        reason: format!("the inclusion proof does not verify: {reason}"),
    }
}

/// Checks `proof` for the entry `body` and its checkpoint's signature by
/// `log`.
pub(crate) fn check_proof(proof: &Proof, body: &[u8], log: &LogKey) -> Result<()> {
    let leaf = leaf_hash(body);
    let root = root_from_path(proof.log_index, proof.tree_size, leaf, &proof.hashes)
        .ok_or_else(|| fail("the audit path does not fit the tree size and index"))?;
    if root.as_slice() != proof.root_hash.as_slice() {
        return Err(fail("the audit path leads to another root hash"));
    }
    let checkpoint = proof
        .checkpoint
        .as_deref()
        .ok_or_else(|| fail("it has no checkpoint"))?;
    check_checkpoint(checkpoint, proof, log)
}

/// RFC 6962's leaf hash: SHA-256 of 0x00 and the entry.
fn leaf_hash(body: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update([0u8]);
    hasher.update(body);
    hasher.finalize().into()
}

fn node_hash(left: &[u8], right: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update([1u8]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The root an audit path leads to (RFC 9162 2.1.3.2), or `None` when
/// the path does not fit.
fn root_from_path(index: u64, size: u64, leaf: [u8; 32], path: &[Vec<u8>]) -> Option<[u8; 32]> {
    if index >= size {
        return None;
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut root = leaf;
    for sibling in path {
        if sibling.len() != 32 || snode == 0 {
            return None;
        }
        if fnode & 1 == 1 || fnode == snode {
            root = node_hash(sibling, &root);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            root = node_hash(&root, sibling);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    (snode == 0).then_some(root)
}

/// A checkpoint: `origin\nsize\nroot(base64)\n[extensions]\n\n` then
/// signature lines `— name base64(key hint(4) ‖ DER signature)`. One
/// signature whose hint is the log ID's first 4 bytes must verify over
/// the text before the blank line, and the size and root must be the
/// proof's.
fn check_checkpoint(note: &str, proof: &Proof, log: &LogKey) -> Result<()> {
    let (text, signatures) = note
        .split_once("\n\n")
        .ok_or_else(|| fail("the checkpoint is not a signed note"))?;
    let text = format!("{text}\n");
    let mut lines = text.lines();
    let (_origin, size, root) = (lines.next(), lines.next(), lines.next());
    if size != Some(proof.tree_size.to_string().as_str()) {
        return Err(fail("the checkpoint is for another tree size"));
    }
    if root.and_then(|r| STANDARD.decode(r).ok()).as_deref() != Some(proof.root_hash.as_slice()) {
        return Err(fail("the checkpoint signs another root hash"));
    }
    let key = log
        .key
        .as_ref()
        .ok_or_else(|| fail("the log key is not ECDSA"))?;
    let hint = log.id.get(..4).unwrap_or_default();
    let signed = signatures.lines().any(|line| {
        let Some(rest) = line.strip_prefix("\u{2014} ") else {
            return false;
        };
        let Some((_name, b64)) = rest.rsplit_once(' ') else {
            return false;
        };
        let Ok(bytes) = STANDARD.decode(b64) else {
            return false;
        };
        bytes.len() > 4
            && &bytes[..4] == hint
            && key.verifies(Hash::Sha256, text.as_bytes(), &bytes[4..])
    });
    if signed {
        Ok(())
    } else {
        Err(fail("no checkpoint signature verifies with the log's key"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tree of `n` leaves; the proof for `index` computed the slow way.
    fn tree_root(leaves: &[[u8; 32]]) -> [u8; 32] {
        if leaves.len() == 1 {
            return leaves[0];
        }
        let split = leaves.len().next_power_of_two() / 2;
        node_hash(&tree_root(&leaves[..split]), &tree_root(&leaves[split..]))
    }

    fn path(leaves: &[[u8; 32]], index: usize) -> Vec<Vec<u8>> {
        if leaves.len() == 1 {
            return Vec::new();
        }
        let split = leaves.len().next_power_of_two() / 2;
        if index < split {
            let mut p = path(&leaves[..split], index);
            p.push(tree_root(&leaves[split..]).to_vec());
            p
        } else {
            let mut p = path(&leaves[split..], index - split);
            p.push(tree_root(&leaves[..split]).to_vec());
            p
        }
    }

    #[test]
    fn audit_paths_of_every_leaf_of_small_trees_lead_to_the_root() {
        for n in 1..=17usize {
            let leaves: Vec<[u8; 32]> = (0..n).map(|i| leaf_hash(&i.to_le_bytes())).collect();
            let root = tree_root(&leaves);
            for index in 0..n {
                let p = path(&leaves, index);
                let got = root_from_path(index as u64, n as u64, leaves[index], &p);
                assert_eq!(got, Some(root), "n {n} index {index}");
                // Another index, a cut path, a wrong size: not the root.
                if n > 1 {
                    let other = (index + 1) % n;
                    assert_ne!(
                        root_from_path(other as u64, n as u64, leaves[index], &p),
                        Some(root)
                    );
                    assert_ne!(
                        root_from_path(index as u64, n as u64, leaves[index], &p[1..]),
                        Some(root)
                    );
                }
                assert_eq!(root_from_path(n as u64, n as u64, leaves[index], &p), None);
            }
        }
    }
}
