//! Download buffers: received chunks packed into [`HOT_GROUP`]-sized
//! buffers, and the client's pool of written ones kept for reuse.

use bytes::{Bytes, BytesMut};

use super::download::HOT_GROUP;

/// Packs received chunks into [`HOT_GROUP`]-sized buffers that the writer
/// hands back to the client's [`Spares`] once written. The transport's own
/// read buffer is then free again as soon as a chunk is copied, and the
/// pages this download writes from stay mapped: handing the transport's
/// chunks to the writer made glibc return them to the kernel and fault
/// fresh ones in for every read (`clear_page_erms` at 15 % of a 1 GiB
/// pull's CPU on one VM).
pub(super) struct Packer<'a> {
    spares: &'a Spares,
    current: BytesMut,
    /// Bytes still expected, when the size is known (a small blob gets a
    /// buffer of its own size, not a whole group).
    left: Option<u64>,
}

impl<'a> Packer<'a> {
    pub(super) fn new(spares: &'a Spares, size: Option<u64>) -> Self {
        Self {
            spares,
            current: buffer(spares, size),
            left: size,
        }
    }

    /// Copies from `rest` until it is empty or a buffer is full; returns
    /// the full buffer, leaving the remainder in `rest`.
    pub(super) fn fill(&mut self, rest: &mut &[u8]) -> Option<Bytes> {
        while !rest.is_empty() {
            let room = self.current.capacity() - self.current.len();
            let taken = room.min(rest.len());
            self.current.extend_from_slice(&rest[..taken]);
            *rest = &rest[taken..];
            if let Some(left) = &mut self.left {
                *left = left.saturating_sub(taken as u64);
            }
            if self.current.len() == self.current.capacity() {
                let next = buffer(self.spares, self.left);
                return Some(std::mem::replace(&mut self.current, next).freeze());
            }
        }
        None
    }

    /// What is left in the last buffer, if anything.
    pub(super) fn rest(self) -> Option<Bytes> {
        (!self.current.is_empty()).then(|| self.current.freeze())
    }
}

/// A written buffer back from the writer, or a new one for the `left`
/// bytes still expected (a whole group when that is unknown or more).
fn buffer(spares: &Spares, left: Option<u64>) -> BytesMut {
    // A kept buffer holds a whole group, so it always fits.
    if let Some(mut kept) = spares.take() {
        kept.clear();
        return kept;
    }
    let wanted = left.map_or(HOT_GROUP, |left| {
        usize::try_from(left)
            .unwrap_or(HOT_GROUP)
            .clamp(1, HOT_GROUP)
    });
    BytesMut::with_capacity(wanted)
}

/// Written download buffers kept for the next ones, across a client's
/// downloads: at most its memory budget's worth, so the pool never holds
/// more than the transfers it serves may, and the pages stay mapped.
pub(crate) struct Spares {
    buffers: std::sync::Mutex<Vec<BytesMut>>,
    most: usize,
}

impl Spares {
    /// A pool keeping at most `most` buffers.
    fn holding(most: usize) -> Self {
        Self {
            buffers: std::sync::Mutex::default(),
            most,
        }
    }

    /// A pool for a budget of `bytes`.
    pub(crate) fn for_budget(bytes: usize) -> Self {
        Self::holding(bytes / HOT_GROUP)
    }

    fn take(&self) -> Option<BytesMut> {
        self.buffers.lock().ok()?.pop()
    }

    /// Keeps a whole-group buffer while there is room; drops the rest.
    pub(super) fn give_back(&self, buffer: BytesMut) {
        if buffer.capacity() < HOT_GROUP {
            return;
        }
        if let Ok(mut buffers) = self.buffers.lock()
            && buffers.len() < self.most
        {
            buffers.push(buffer);
        }
    }
}

impl std::fmt::Debug for Spares {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let held = self.buffers.lock().map_or(0, |buffers| buffers.len());
        f.debug_struct("Spares")
            .field("held", &held)
            .field("most", &self.most)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn chunks_are_packed_in_order_into_full_buffers_that_come_back() {
        let spares = Spares::holding(4);
        let mut packer = Packer::new(&spares, None);
        let input: Vec<u8> = (0..8 * HOT_GROUP + 1000)
            .map(|i| u8::try_from(i % 253).unwrap())
            .collect();
        let mut out: Vec<u8> = Vec::new();
        let mut buffers = HashSet::new();
        for chunk in input.chunks(100_000) {
            let mut rest = chunk;
            while let Some(full) = packer.fill(&mut rest) {
                assert_eq!(full.len(), HOT_GROUP, "only full buffers before the end");
                out.extend_from_slice(&full);
                buffers.insert(full.as_ptr() as usize);
                // As the writer does once a buffer is written.
                spares.give_back(full.try_into_mut().unwrap());
            }
            assert!(
                rest.is_empty(),
                "fill takes everything or returns a full buffer"
            );
        }
        let last = packer.rest().unwrap();
        assert_eq!(last.len(), 1000);
        out.extend_from_slice(&last);
        assert_eq!(out, input, "nothing lost, nothing reordered");
        assert_eq!(buffers.len(), 2, "8 full buffers from 2 allocations");
    }

    #[test]
    fn the_pool_keeps_whole_buffers_up_to_its_limit() {
        let spares = Spares::holding(2);
        spares.give_back(BytesMut::with_capacity(100));
        assert!(spares.take().is_none(), "a small blob's buffer is not kept");
        for _ in 0..3 {
            spares.give_back(BytesMut::with_capacity(HOT_GROUP));
        }
        assert!(spares.take().is_some());
        assert!(spares.take().is_some());
        assert!(spares.take().is_none(), "no more than the limit");
    }

    #[test]
    fn a_small_blob_of_known_size_gets_a_buffer_of_its_size() {
        let spares = Spares::holding(4);
        let mut packer = Packer::new(&spares, Some(5000));
        assert!(packer.current.capacity() < HOT_GROUP);
        let mut rest = &[7u8; 5000][..];
        let full = packer.fill(&mut rest).expect("the blob fills its buffer");
        assert_eq!(full.len(), 5000);
        assert!(packer.rest().is_none(), "nothing left over");
    }
}
