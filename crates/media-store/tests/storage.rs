//! Both backends through the shared conformance suite: the local folder on a temporary
//! directory always, and S3 on a fresh prefix of the server named by
//! `MARQUEE_TEST_S3_ENDPOINT` (skipped with a message when unset, a failure under CI=true).
//! Then what differs between them, and the errors that `open` gives.

use marquee_media_store::testing::{fresh_local, fresh_s3, test_s3};
use marquee_media_store::{MediaKey, MediaStorage, OpenError, S3Settings, S3Storage, open};
use std::path::Path;
use std::sync::Arc;

mod local {
    use super::*;

    async fn fresh() -> Option<(Arc<dyn MediaStorage>, tempfile::TempDir)> {
        let (storage, dir) = fresh_local().await;
        Some((Arc::new(storage), dir))
    }

    marquee_media_store::conformance_tests!(fresh());
}

mod s3 {
    use super::*;

    async fn fresh() -> Option<(Arc<dyn MediaStorage>, ())> {
        Some((Arc::new(fresh_s3().await?), ()))
    }

    marquee_media_store::conformance_tests!(fresh());
}

fn key(s: &str) -> MediaKey {
    MediaKey::parse(s).unwrap()
}

#[tokio::test]
async fn the_local_backend_hands_ffmpeg_the_real_file_and_s3_hands_it_nothing() {
    let (storage, dir) = fresh_local().await;
    let k = key("movies/1/source.mp4");
    storage.put_bytes(&k, "video".into()).await.unwrap();
    let path = storage.local_path(&k).unwrap();
    assert_eq!(path, dir.path().join("media/movies/1/source.mp4"));
    assert_eq!(std::fs::read(&path).unwrap(), b"video");
    assert!(storage.describe().contains("local folder"));
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers,
        ["source.mp4"],
        "no temporary file is left behind"
    );

    let Some(s3) = fresh_s3().await else { return };
    assert_eq!(s3.local_path(&k), None);
    let described = s3.describe();
    assert!(described.starts_with("s3://"), "{described}");
    assert!(!described.contains(&test_s3().unwrap().settings.secret_access_key));
}

#[tokio::test]
async fn open_picks_the_backend_from_the_url_and_defaults_to_the_data_folder() {
    let dir = tempfile::tempdir().unwrap();
    let default = open(None, dir.path()).await.unwrap();
    assert_eq!(
        default.local_path(&key("a")).unwrap(),
        dir.path().join("media/a")
    );
    assert!(dir.path().join("media").is_dir(), "the folder is created");

    let url = format!("file://{}", dir.path().join("elsewhere").display());
    let folder = open(Some(&url), dir.path()).await.unwrap();
    assert_eq!(
        folder.local_path(&key("a")).unwrap(),
        dir.path().join("elsewhere/a")
    );

    let Err(err) = open(Some("s3://"), dir.path()).await else {
        panic!("no bucket, no storage")
    };
    assert!(matches!(err, OpenError::MissingBucket), "{err}");
}

#[tokio::test]
async fn an_unusable_media_folder_is_reported_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let Err(err) = open(file.to_str(), Path::new("/unused")).await else {
        panic!("a file is not a folder")
    };
    assert!(matches!(err, OpenError::LocalFolder { .. }), "{err}");
    assert!(err.to_string().contains("a-file"), "{err}");
}

fn settings(endpoint: &str, secret: &str) -> S3Settings {
    S3Settings {
        endpoint: Some(endpoint.to_owned()),
        region: "us-east-1".to_owned(),
        access_key_id: "marquee-test".to_owned(),
        secret_access_key: secret.to_owned(),
        session_token: None,
    }
}

#[tokio::test]
async fn an_unreachable_endpoint_is_named_without_the_secret() {
    // Port 1 on the loopback interface: nothing listens there, so the connection is refused.
    let err = S3Storage::connect("films", None, &settings("http://127.0.0.1:1", "hunter2"))
        .await
        .unwrap_err();
    assert!(matches!(err, OpenError::Unreachable { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("cannot reach the S3 endpoint http://127.0.0.1:1"),
        "{msg}"
    );
    assert!(!msg.contains("hunter2"), "{msg}");
}

#[tokio::test]
async fn a_missing_bucket_is_named() {
    let Some(s3) = test_s3() else { return };
    let bucket = marquee_media_store::testing::unique_name("absent");
    let err = S3Storage::connect(&bucket, None, &s3.settings)
        .await
        .unwrap_err();
    assert!(matches!(err, OpenError::NoSuchBucket { .. }), "{err}");
    assert!(err.to_string().contains(&bucket), "{err}");
}

/// A stand-in S3 endpoint on a loopback port that answers every request with `status` and an
/// S3 error document with `code` (moto, the test server, accepts any credentials).
async fn endpoint_answering(status: &'static str, code: &'static str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let body = format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>refused</Message></Error>"
                );
                let response = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    format!("http://{address}")
}

#[tokio::test]
async fn refused_credentials_are_named_without_the_secret() {
    for (status, code) in [
        ("403 Forbidden", "InvalidAccessKeyId"),
        ("403 Forbidden", "SignatureDoesNotMatch"),
    ] {
        let endpoint = endpoint_answering(status, code).await;
        let err = S3Storage::connect("films", None, &settings(&endpoint, "hunter2"))
            .await
            .unwrap_err();
        assert!(
            matches!(err, OpenError::CredentialsRejected { .. }),
            "{code}: {err}"
        );
        let msg = err.to_string();
        assert!(msg.contains("rejected the credentials"), "{msg}");
        assert!(!msg.contains("hunter2"), "{msg}");
    }
    let endpoint = endpoint_answering("404 Not Found", "NoSuchBucket").await;
    let err = S3Storage::connect("films", None, &settings(&endpoint, "hunter2"))
        .await
        .unwrap_err();
    assert!(matches!(err, OpenError::NoSuchBucket { .. }), "{err}");
}
