//! Blobs written from a stream and read as one, with the hash and the size checked.

use egov_store::blobs::{BlobStorage, BlobStore};
use tokio::io::AsyncReadExt;

fn store() -> (BlobStore, std::path::PathBuf) {
    let root = std::env::temp_dir().join(format!(
        "egov-blob-streams-{}-{}",
        std::process::id(),
        egov_store::now().unix_timestamp_nanos()
    ));
    (BlobStore::new(&root), root)
}

/// Every file under `root` (the blob and any temporary left behind).
fn files(root: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.path().is_dir() {
                todo.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out
}

#[tokio::test]
async fn a_stream_is_kept_under_its_hash_and_read_back_as_one() {
    let (blobs, root) = store();
    // Larger than one read buffer, so the hash is built over several pieces.
    let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let sha = BlobStore::digest(&bytes);

    let w = blobs.write(&bytes[..], Some(&sha), 1 << 20).await.unwrap();
    assert_eq!((w.sha256.as_str(), w.size), (sha.as_str(), 200_000));
    assert_eq!(
        blobs.get(&sha).unwrap(),
        bytes,
        "the same file the other calls read"
    );
    let mut back = Vec::new();
    blobs
        .read(&sha)
        .await
        .unwrap()
        .read_to_end(&mut back)
        .await
        .unwrap();
    assert_eq!(back, bytes);
    // Written again: the same blob, one file.
    blobs.write(&bytes[..], None, 1 << 20).await.unwrap();
    assert_eq!(files(&root), [blobs.path(&sha).unwrap()]);

    // A different hash than announced, or too many bytes: nothing is kept.
    let other = b"another file".to_vec();
    let e = blobs
        .write(&other[..], Some(&sha), 1 << 20)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("announced"), "{e}");
    let e = blobs.write(&bytes[..], None, 1000).await.unwrap_err();
    assert!(e.to_string().contains("larger than 1000"), "{e}");
    assert_eq!(files(&root), [blobs.path(&sha).unwrap()]);
    // A name that is not a hash is refused before anything is written.
    assert!(
        blobs
            .write(&other[..], Some("../../etc/passwd"), 100)
            .await
            .is_err()
    );

    let missing = BlobStore::digest(b"never stored");
    assert!(matches!(
        blobs.read(&missing).await.err().unwrap(),
        egov_store::StoreError::NotFound
    ));
    assert!(blobs.read("../secret").await.is_err());
    let _ = std::fs::remove_dir_all(&root);
}
