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
    let pieces: Vec<Result<Bytes, std::io::Error>> = bytes
        .chunks(3000)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    vec![
        ("bytes", BlobSource::bytes(bytes.clone())),
        ("file", BlobSource::file(path)),
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
async fn prepare_learns_file_sizes_and_memory_digests() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    tokio::fs::write(&path, b"12345").await.unwrap();
    let mut file = BlobSource::file(&path);
    file.prepare().await.unwrap();
    assert_eq!(file.size(), Some(5));
    assert!(file.digest().is_none());
    let mut memory = BlobSource::bytes(&b"12345"[..]);
    memory.prepare().await.unwrap();
    assert_eq!(memory.digest(), Some(&Digest::sha256_of(b"12345")));
    let mut missing = BlobSource::file(dir.path().join("missing"));
    assert!(matches!(missing.prepare().await, Err(Error::Io { .. })));
}
