//! The two error types: `OpenError` for choosing and reaching a backend at start-up, and
//! `StorageError` for a single operation. Messages name the problem and the place (a folder,
//! a bucket, an endpoint, a key) and never a secret: credentials are not part of any of them.

use std::ops::Range;
use std::path::PathBuf;

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why media storage could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The `--media-url` is not a path, `file:///…` or `s3://bucket/prefix` URL.
    #[error("bad media URL: {0}")]
    BadUrl(String),
    /// `s3://` without a bucket name.
    #[error("the media URL names no bucket (expected s3://BUCKET or s3://BUCKET/PREFIX)")]
    MissingBucket,
    /// A required environment setting (its name) is missing.
    #[error("S3 media storage needs {0} in the environment")]
    MissingSetting(&'static str),
    /// A setting is present but unusable; names the setting, not its value when secret.
    #[error("bad S3 setting {name}: {reason}")]
    BadSetting { name: &'static str, reason: String },
    /// The local media folder could not be created or used.
    #[error("cannot use the media folder {}: {source}", path.display())]
    LocalFolder {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// No connection to the S3 endpoint.
    #[error("cannot reach the S3 endpoint {endpoint}: {reason}")]
    Unreachable { endpoint: String, reason: String },
    /// The endpoint refused the access key or signature.
    #[error(
        "the S3 endpoint {endpoint} rejected the credentials (check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
    )]
    CredentialsRejected { endpoint: String },
    /// The credentials work but the bucket is not there.
    #[error("the bucket {bucket:?} does not exist at {endpoint}")]
    NoSuchBucket { bucket: String, endpoint: String },
    /// Anything else the endpoint answered.
    #[error("cannot use the bucket {bucket:?} at {endpoint}: {source}")]
    S3 {
        bucket: String,
        endpoint: String,
        #[source]
        source: BoxError,
    },
}

/// Why one storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// No object under that key.
    #[error("no stored media at {0}")]
    NotFound(String),
    /// The range does not lie within the object (HTTP 416).
    #[error("range {}..{} is outside {key} ({size} bytes)", range.start, range.end)]
    RangeNotSatisfiable {
        key: String,
        range: Range<u64>,
        size: u64,
    },
    /// `get` is for small objects; this one is larger than [`crate::MAX_GET_BYTES`].
    #[error("{key} is {size} bytes, too large to read whole")]
    TooLarge { key: String, size: u64 },
    /// A local file could not be read or written (also: the source of an upload, the
    /// destination of a download).
    #[error("media storage I/O on {key}: {source}")]
    Io {
        key: String,
        #[source]
        source: std::io::Error,
    },
    /// The object store answered with an error or could not be reached.
    #[error("S3 {op} of {key} failed: {source}")]
    Backend {
        op: &'static str,
        key: String,
        #[source]
        source: BoxError,
    },
}

impl StorageError {
    pub(crate) fn io(key: impl ToString, source: std::io::Error) -> Self {
        Self::Io {
            key: key.to_string(),
            source,
        }
    }

    /// Whether this is [`StorageError::NotFound`] (a 404 rather than a 500).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound(_))
    }
}
