//! Test support, for this crate's tests and for crates that test with real storage: a fresh
//! local folder, or a fresh prefix in a bucket of the S3-compatible server named by
//! `MARQUEE_TEST_S3_ENDPOINT` (`scripts/s3-test-server` starts one and prints the variables).
//! Without that variable the tests that need it skip with a visible message, except under
//! `CI=true`, where a missing server is a failure.

use crate::{LocalStorage, MediaKey, OpenError, S3Settings, S3Storage};
use object_store::path::Path as ObjectPath;
use object_store::signer::Signer;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

pub const ENDPOINT_VAR: &str = "MARQUEE_TEST_S3_ENDPOINT";
pub const ACCESS_KEY_VAR: &str = "MARQUEE_TEST_S3_ACCESS_KEY_ID";
pub const SECRET_KEY_VAR: &str = "MARQUEE_TEST_S3_SECRET_ACCESS_KEY";
pub const BUCKET_VAR: &str = "MARQUEE_TEST_S3_BUCKET";
/// The credentials `scripts/s3-test-server` gives its server, used when the variables above
/// do not say otherwise.
pub const DEFAULT_ACCESS_KEY: &str = "marquee-test";
pub const DEFAULT_SECRET_KEY: &str = "marquee-test-secret";
pub const DEFAULT_BUCKET: &str = "marquee-test";

/// The test server: how to reach it and which bucket to use.
#[derive(Debug, Clone)]
pub struct TestS3 {
    pub settings: S3Settings,
    pub bucket: String,
}

/// The test server, or `None` (after saying so) when tests should skip.
pub fn test_s3() -> Option<TestS3> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let Some(endpoint) = var(ENDPOINT_VAR) else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{ENDPOINT_VAR} is not set, and CI=true does not allow skipping the S3 tests");
        }
        eprintln!(
            "SKIPPED: set {ENDPOINT_VAR}=http://127.0.0.1:PORT (see scripts/s3-test-server) to run the S3 half of this test"
        );
        return None;
    };
    Some(TestS3 {
        settings: S3Settings {
            endpoint: Some(endpoint),
            region: var("MARQUEE_TEST_S3_REGION").unwrap_or_else(|| "us-east-1".into()),
            access_key_id: var(ACCESS_KEY_VAR).unwrap_or_else(|| DEFAULT_ACCESS_KEY.into()),
            secret_access_key: var(SECRET_KEY_VAR).unwrap_or_else(|| DEFAULT_SECRET_KEY.into()),
            session_token: None,
        },
        bucket: var(BUCKET_VAR).unwrap_or_else(|| DEFAULT_BUCKET.into()),
    })
}

/// A name no other test (in this or another process) is using, usable as a key segment.
pub fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{prefix}-{}-{}-{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Storage on a new empty prefix of the test bucket (created if needed), or `None` to skip.
pub async fn fresh_s3() -> Option<S3Storage> {
    let s3 = test_s3()?;
    ensure_bucket(&s3.settings, &s3.bucket)
        .await
        .unwrap_or_else(|e| panic!("creating the test bucket {}: {e}", s3.bucket));
    let prefix = MediaKey::parse(&unique_name("t")).expect("a valid prefix");
    Some(
        S3Storage::connect(&s3.bucket, Some(prefix), &s3.settings)
            .await
            .unwrap_or_else(|e| panic!("connecting to the test S3 server: {e}")),
    )
}

/// Storage in a new temporary folder, removed when the returned guard drops.
pub async fn fresh_local() -> (LocalStorage, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let storage = LocalStorage::open(&dir.path().join("media"))
        .await
        .expect("opening a local media folder");
    (storage, dir)
}

/// Creates `bucket` unless it exists (`object_store` has no bucket operations, so this sends
/// a presigned CreateBucket request).
pub async fn ensure_bucket(settings: &S3Settings, bucket: &str) -> Result<(), OpenError> {
    let endpoint = settings.endpoint_for_display();
    let failed = |e: Box<dyn std::error::Error + Send + Sync>| OpenError::S3 {
        bucket: bucket.to_owned(),
        endpoint: endpoint.clone(),
        source: e,
    };
    let client = crate::s3::client_builder(bucket, settings, Some(Duration::from_secs(60)))?
        .build()
        .map_err(|e| failed(e.into()))?;
    let url = client
        .signed_url(
            reqwest::Method::PUT,
            &ObjectPath::from(""),
            Duration::from_secs(60),
        )
        .await
        .map_err(|e| failed(e.into()))?;
    crate::s3::install_tls_provider();
    let response = reqwest::Client::new()
        .put(url)
        .header(reqwest::header::CONTENT_LENGTH, "0")
        .send()
        .await
        .map_err(|e| failed(e.without_url().into()))?;
    let status = response.status();
    // 409: BucketAlreadyOwnedByYou (another test created it first).
    if status.is_success() || status == reqwest::StatusCode::CONFLICT {
        return Ok(());
    }
    let body = response.text().await.unwrap_or_default();
    Err(failed(
        format!("CreateBucket answered {status}: {body}").into(),
    ))
}
