//! Feeds over every kind of source: hashing once, going back, sizes.

use super::*;

fn data(len: usize) -> Bytes {
    (0..len)
        .map(|i| u8::try_from(i * 7 % 251).unwrap_or(0))
        .collect::<Vec<u8>>()
        .into()
}

async fn sources(bytes: &Bytes, dir: &std::path::Path) -> Vec<(&'static str, BlobSource)> {
    let path = dir.join("blob");
    tokio::fs::write(&path, bytes).await.unwrap();
    // The same bytes as a member of a bigger file, with bytes either side
    // that must never be read.
    let inside = dir.join("archive");
    let mut padded = vec![0xAA; 100];
    padded.extend_from_slice(bytes);
    padded.extend_from_slice(&[0xBB; 50]);
    tokio::fs::write(&inside, &padded).await.unwrap();
    let pieces: Vec<Result<Bytes, std::io::Error>> = bytes
        .chunks(3000)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    vec![
        ("bytes", BlobSource::bytes(bytes.clone())),
        ("file", BlobSource::file(path)),
        (
            "file range",
            BlobSource::file_range(inside, 100, bytes.len() as u64),
        ),
        (
            "reader",
            BlobSource::reader(std::io::Cursor::new(bytes.to_vec()), None),
        ),
        (
            "stream",
            BlobSource::stream(futures_util::stream::iter(pieces), None),
        ),
    ]
}

async fn drain(feed: &mut Feed, max: usize) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(piece) = feed.next(max).await.unwrap() {
        assert!(piece.len() <= max);
        out.extend_from_slice(&piece);
    }
    out
}

#[tokio::test]
async fn every_source_reads_whole_and_hashes_once() {
    let bytes = data(10_000);
    let dir = tempfile::tempdir().unwrap();
    for (name, source) in sources(&bytes, dir.path()).await {
        let mut feed = Feed::open(source, 64 * 1024, name.into()).await.unwrap();
        assert_eq!(drain(&mut feed, 4096).await, bytes.as_ref(), "{name}");
        assert!(feed.is_done());
        assert_eq!(feed.finish(), (Digest::sha256_of(&bytes), 10_000), "{name}");
    }
}

#[tokio::test]
async fn going_back_resends_the_same_bytes_without_rehashing() {
    let bytes = data(10_000);
    let dir = tempfile::tempdir().unwrap();
    for (name, source) in sources(&bytes, dir.path()).await {
        let mut feed = Feed::open(source, 64 * 1024, name.into()).await.unwrap();
        let first = feed.next_exact(6000).await.unwrap().unwrap();
        assert_eq!(first.len(), 6000, "{name}");
        assert!(feed.rewind(2500).await.unwrap(), "{name}");
        let rest = drain(&mut feed, 1000).await;
        assert_eq!(rest, &bytes[2500..], "{name}");
        assert_eq!(feed.finish().0, Digest::sha256_of(&bytes), "{name}");
    }
}

#[tokio::test]
async fn readers_cannot_go_back_past_their_window() {
    let bytes = data(10_000);
    let source = BlobSource::reader(std::io::Cursor::new(bytes.to_vec()), None);
    let mut feed = Feed::open(source, 4000, "reader".into()).await.unwrap();
    let _ = drain(&mut feed, 1000).await;
    assert!(!feed.rewind(0).await.unwrap());
    assert!(feed.rewind(7000).await.unwrap());
    assert_eq!(drain(&mut feed, 1000).await, &bytes[7000..]);
    assert!(!feed.rewind(10_001).await.unwrap());
}

#[tokio::test]
async fn announced_sizes_are_checked_both_ways() {
    for (announced, actual) in [(10u64, 12usize), (12, 10)] {
        let source = BlobSource::bytes(data(actual)).with_size(announced);
        let mut feed = Feed::open(source, 0, "sized".into()).await.unwrap();
        let mut outcome = Ok(Some(Bytes::new()));
        while let Ok(Some(_)) = outcome {
            outcome = feed.next(4).await;
        }
        let error = outcome.unwrap_err().to_string();
        assert!(
            error.contains(&format!("announced as {announced} bytes")),
            "{error}"
        );
    }
}

#[tokio::test]
async fn prepare_learns_sizes_and_reads_small_sources_into_memory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    tokio::fs::write(&path, b"12345").await.unwrap();
    let large = BlobSource::file(&path).prepare(4).await.unwrap();
    assert_eq!(large.size(), Some(5));
    assert!(
        large.digest().is_none(),
        "larger than `small`: hashed on the way"
    );
    let small = BlobSource::file(&path).prepare(5).await.unwrap();
    assert_eq!(small.digest(), Some(&Digest::sha256_of(b"12345")));
    assert!(matches!(small.kind, SourceKind::Bytes(_)));
    let reader = BlobSource::reader(std::io::Cursor::new(b"12345".to_vec()), Some(5));
    let reader = reader.prepare(1 << 20).await.unwrap();
    assert_eq!(reader.digest(), Some(&Digest::sha256_of(b"12345")));
    let unsized_reader = BlobSource::reader(std::io::Cursor::new(b"12345".to_vec()), None);
    assert!(
        unsized_reader
            .prepare(1 << 20)
            .await
            .unwrap()
            .digest()
            .is_none()
    );
    let memory = BlobSource::bytes(&b"12345"[..]).prepare(0).await.unwrap();
    assert_eq!(memory.digest(), Some(&Digest::sha256_of(b"12345")));
    let lying = BlobSource::reader(std::io::Cursor::new(b"123".to_vec()), Some(5));
    assert!(
        lying.prepare(1 << 20).await.is_err(),
        "the announced size is checked"
    );
    let missing = BlobSource::file(dir.path().join("missing"));
    assert!(matches!(missing.prepare(0).await, Err(Error::Io { .. })));
}

#[tokio::test]
async fn a_trusted_feed_reports_the_given_digest_and_an_untrusted_one_the_bytes() {
    let bytes = data(5000);
    let given = Digest::sha256_of(b"another blob");
    let digest_after = |trust: bool| {
        let source = BlobSource::bytes(bytes.clone()).with_digest(given.clone());
        async move {
            let mut feed = Feed::open(source, 0, "given".into()).await.unwrap();
            if trust {
                assert!(feed.trust_given_digest());
            } else {
                // Hashing stays on: reading began before any trust.
                feed.next(10).await.unwrap();
                assert!(!feed.trust_given_digest());
            }
            while feed.next(1000).await.unwrap().is_some() {}
            feed.finish()
        }
    };
    assert_eq!(digest_after(true).await, (given.clone(), 5000));
    assert_eq!(digest_after(false).await, (Digest::sha256_of(&bytes), 5000));
    let unsigned = BlobSource::bytes(bytes.clone());
    let mut feed = Feed::open(unsigned, 0, "no digest".into()).await.unwrap();
    assert!(
        !feed.trust_given_digest(),
        "a source without a digest is always hashed"
    );
}
