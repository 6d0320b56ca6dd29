//! Blobs in an S3-compatible bucket, against a real server (SeaweedFS from PyPI, started by
//! the test command; see `egov_store::testing::s3_config`).

use egov_store::StoreError;
use egov_store::blobs::{BlobStorage, BlobStore, Blobs};
use egov_store::objects::{S3Blobs, S3Config, SMALL};
use object_store::ObjectStoreExt;
use tokio::io::AsyncReadExt;

async fn bucket() -> (Blobs, S3Config, tempfile::TempDir) {
    let config = egov_store::testing::s3_config().await;
    let staging = tempfile::tempdir().unwrap();
    let blobs = Blobs::S3 {
        bucket: S3Blobs::new(&config).unwrap(),
        staging: BlobStore::new(staging.path()),
    };
    (blobs, config, staging)
}

/// The bucket reached without egov in between, to see and tamper with what egov stored.
fn raw(config: &S3Config) -> object_store::aws::AmazonS3 {
    object_store::aws::AmazonS3Builder::new()
        .with_endpoint(&config.endpoint)
        .with_bucket_name(&config.bucket)
        .with_region(&config.region)
        .with_access_key_id(&config.access_key_id)
        .with_secret_access_key(&config.secret_access_key)
        .with_allow_http(true)
        .with_virtual_hosted_style_request(false)
        .build()
        .unwrap()
}

async fn keys(config: &S3Config, under: &str) -> Vec<String> {
    use futures_util::StreamExt;
    use object_store::ObjectStore;
    let prefix = object_store::path::Path::from(format!("{}/{under}", config.prefix));
    raw(config)
        .list(Some(&prefix))
        .map(|m| m.unwrap().location.to_string())
        .collect()
        .await
}

/// Bytes that do not repeat (so that no layer can compress or share them).
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[tokio::test]
async fn a_small_and_a_large_blob_go_in_and_come_back_by_their_hash() {
    let (blobs, config, _staging) = bucket().await;
    for (len, seed) in [
        (0, 1),
        (1, 2),
        (300_000, 3),
        (SMALL + 3 * 1024 * 1024 + 17, 4),
    ] {
        let bytes = noise(len, seed);
        let w = blobs.write(&bytes[..], None, u64::MAX).await.unwrap();
        assert_eq!(w.sha256, BlobStore::digest(&bytes), "{len} bytes");
        assert_eq!(w.size, len as u64);
        assert!(blobs.exists(&w.sha256).await.unwrap());
        let mut back = Vec::new();
        blobs
            .read(&w.sha256)
            .await
            .unwrap()
            .read_to_end(&mut back)
            .await
            .unwrap();
        assert!(back == bytes, "{len} bytes come back as written");
        // The same bytes again: one object, named by their hash.
        let again = blobs.write(&bytes[..], None, u64::MAX).await.unwrap();
        assert_eq!(again, w);
    }
    assert_eq!(keys(&config, "blobs").await.len(), 4);
    assert!(
        keys(&config, "incoming").await.is_empty(),
        "no upload left behind"
    );
    assert!(blobs.all().await.unwrap().len() == 4);
}

#[tokio::test]
async fn what_does_not_hold_is_refused_and_leaves_nothing() {
    let (blobs, config, _staging) = bucket().await;
    let small = noise(1000, 5);
    let large = noise(SMALL + 1024, 6);
    let other = BlobStore::digest(b"something else");
    for bytes in [&small, &large] {
        // A hash announced that the bytes do not have.
        let e = blobs.write(&bytes[..], Some(&other), u64::MAX).await;
        assert!(
            matches!(&e, Err(StoreError::Invalid(m)) if m.contains("SHA-256")),
            "{e:?}"
        );
        // Longer than allowed.
        let e = blobs.write(&bytes[..], None, 999).await;
        assert!(
            matches!(&e, Err(StoreError::Invalid(m)) if m.contains("larger")),
            "{e:?}"
        );
    }
    // A name that is not a hash, and a hash with no blob.
    assert!(matches!(
        blobs.read("../../etc/passwd").await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        blobs.read(&other).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(blobs.get(&other).await, Err(StoreError::NotFound)));
    assert!(keys(&config, "blobs").await.is_empty());
    assert!(keys(&config, "incoming").await.is_empty());
}

#[tokio::test]
async fn a_bucket_that_answers_with_other_bytes_is_caught() {
    let (blobs, config, _staging) = bucket().await;
    let good = noise(5000, 7);
    let sha = blobs.put(&good).await.unwrap();
    // Someone (or a broken store) puts other bytes under the name.
    let key = object_store::path::Path::from(format!("{}/blobs/{sha}", config.prefix));
    raw(&config).put(&key, noise(5000, 8).into()).await.unwrap();
    let e = blobs.get(&sha).await;
    assert!(
        matches!(&e, Err(StoreError::Invalid(m)) if m.contains("came back as")),
        "{e:?}"
    );
}

#[tokio::test]
async fn a_bucket_out_of_reach_is_reported_not_ready() {
    let (blobs, mut config, _staging) = bucket().await;
    blobs.check().await.unwrap();
    // No such bucket; wrong credentials; nobody listening.
    let mut missing = config.clone();
    missing.bucket = "egov-no-such-bucket".into();
    let mut wrong = config.clone();
    wrong.secret_access_key = "not-the-secret".into();
    config.endpoint = "http://127.0.0.1:9".into();
    for c in [missing, wrong, config] {
        let b = S3Blobs::new(&c).unwrap();
        let e = b.check().await;
        assert!(matches!(&e, Err(StoreError::ObjectStore(_))), "{e:?}");
        let e = b.write(&b"x"[..], None, 10).await;
        assert!(matches!(&e, Err(StoreError::ObjectStore(_))), "{e:?}");
    }
    // Without a bucket at all: refused when configured.
    assert!(matches!(
        S3Blobs::new(&S3Config::default()),
        Err(StoreError::Invalid(_))
    ));
}

#[tokio::test]
async fn the_sweep_sees_old_blobs_and_removes_interrupted_uploads() {
    let (blobs, config, staging) = bucket().await;
    let sha = blobs.put(b"an orphan").await.unwrap();
    // An upload cut off before it was placed.
    let tmp = object_store::path::Path::from(format!("{}/incoming/cut-off", config.prefix));
    raw(&config)
        .put(&tmp, b"half".to_vec().into())
        .await
        .unwrap();
    // A file a parser staged and nobody adopted.
    let staged = BlobStore::new(staging.path()).put(b"staged").unwrap();
    let now = std::time::SystemTime::now();
    let (recent, removed) = blobs
        .older_than(now - std::time::Duration::from_secs(3600))
        .await
        .unwrap();
    assert!(recent.is_empty() && removed == 0, "nothing is old yet");
    let later = now + std::time::Duration::from_secs(5);
    let (old, removed) = blobs.older_than(later).await.unwrap();
    assert_eq!(old, vec![sha]);
    assert_eq!(removed, 1, "the cut-off upload");
    assert!(keys(&config, "incoming").await.is_empty());
    assert!(
        !BlobStore::new(staging.path())
            .path(&staged)
            .unwrap()
            .exists()
    );
    // A staged file adopted goes to the bucket and leaves the staging folder.
    let w = BlobStore::new(staging.path())
        .writer(1 << 20)
        .map(|mut w| {
            use std::io::Write;
            w.write_all(b"from a parser").unwrap();
            w.finish().unwrap()
        })
        .unwrap();
    blobs.adopt(&w).await.unwrap();
    assert_eq!(blobs.get(&w.sha256).await.unwrap(), b"from a parser");
    assert!(
        !BlobStore::new(staging.path())
            .path(&w.sha256)
            .unwrap()
            .exists()
    );
}

#[tokio::test]
async fn credentials_that_expire_are_renewed_from_their_file_without_a_restart() {
    let (_, config, staging) = bucket().await;
    let file = staging.path().join("credentials");
    let write = |secret: &str| {
        std::fs::write(
            &file,
            format!(
                "[default]\naws_access_key_id = {}\naws_secret_access_key = {secret}\n",
                config.access_key_id
            ),
        )
        .unwrap()
    };
    // The credentials in the file have expired (the server no longer takes them).
    write("an-expired-secret");
    let b = S3Blobs::new(&S3Config {
        access_key_id: String::new(),
        secret_access_key: String::new(),
        credentials_file: Some(file.clone()),
        ..config.clone()
    })
    .unwrap();
    assert!(matches!(b.check().await, Err(StoreError::ObjectStore(_))));
    // The agent that renews them rewrites the file: the same store uses the new ones.
    write(&config.secret_access_key);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    b.check().await.unwrap();
    let w = b.write(&b"renewed"[..], None, 100).await.unwrap();
    assert!(b.exists(&w.sha256).await.unwrap());
    // A file without keys, or none, is refused when configured.
    std::fs::write(&file, "[default]\nregion = us-east-1\n").unwrap();
    let refused = S3Blobs::new(&S3Config {
        credentials_file: Some(file.clone()),
        ..config.clone()
    });
    assert!(
        matches!(refused, Err(StoreError::Invalid(_))),
        "{refused:?}"
    );
    let refused = S3Blobs::new(&S3Config {
        credentials_file: Some(staging.path().join("none")),
        ..config.clone()
    });
    assert!(
        matches!(refused, Err(StoreError::Invalid(_))),
        "{refused:?}"
    );
}

#[tokio::test]
async fn records_are_kept_and_read_back_in_name_order() {
    let (blobs, config, _staging) = bucket().await;
    let Blobs::S3 { bucket, .. } = &blobs else {
        unreachable!()
    };
    assert!(
        bucket
            .records("audit/checkpoints")
            .await
            .unwrap()
            .is_empty()
    );
    for (name, body) in [("20261207-2.json", "two"), ("20261206-1.json", "one")] {
        bucket
            .put_record("audit/checkpoints", name, body.as_bytes().to_vec())
            .await
            .unwrap();
    }
    let got = bucket.records("audit/checkpoints").await.unwrap();
    assert_eq!(
        got,
        vec![
            ("20261206-1.json".to_owned(), b"one".to_vec()),
            ("20261207-2.json".to_owned(), b"two".to_vec())
        ]
    );
    // Under the deployment's prefix, beside the blobs, not among them.
    assert_eq!(keys(&config, "audit").await.len(), 2);
    assert!(blobs.all().await.unwrap().is_empty());
}
