//! Reading the `--media-url` and the S3 settings from the environment. Parsing is separate
//! from connecting so that a typo is reported before anything touches the network, and so
//! tests can build settings without changing the process environment.

use crate::{MediaKey, OpenError};
use std::fmt;
use std::path::{Path, PathBuf};

/// Where media lives, as named by the `--media-url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaLocation {
    /// A local folder.
    Local(PathBuf),
    /// A bucket of an S3-compatible service, optionally with a folder inside it.
    S3 {
        bucket: String,
        prefix: Option<MediaKey>,
    },
}

impl MediaLocation {
    /// `None` or empty: `<data_dir>/media`; `s3://bucket[/prefix]`; `file:///abs/path`; or a
    /// plain path. Errors never echo a URL that carries a user name or password.
    pub fn parse(url: Option<&str>, data_dir: &Path) -> Result<Self, OpenError> {
        let url = url.map(str::trim).unwrap_or_default();
        if url.is_empty() {
            return Ok(Self::Local(data_dir.join("media")));
        }
        let Some((scheme, rest)) = url.split_once("://") else {
            return Ok(Self::Local(PathBuf::from(url)));
        };
        match scheme.to_ascii_lowercase().as_str() {
            "file" => {
                if !rest.starts_with('/') {
                    return Err(OpenError::BadUrl(
                        "a file URL needs an absolute path (file:///srv/media)".into(),
                    ));
                }
                if rest.contains(['?', '#', '%']) {
                    return Err(OpenError::BadUrl(
                        "a file URL cannot hold a query, a fragment or %-escapes; give the folder as a plain path".into(),
                    ));
                }
                Ok(Self::Local(PathBuf::from(rest)))
            }
            "s3" => parse_s3(rest),
            other => Err(OpenError::BadUrl(format!(
                "unsupported scheme {other:?} (use a folder path, file:///… or s3://bucket/prefix)"
            ))),
        }
    }
}

fn parse_s3(rest: &str) -> Result<MediaLocation, OpenError> {
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.contains('@') {
        return Err(OpenError::BadUrl(
            "credentials do not belong in the media URL; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".into(),
        ));
    }
    if rest.contains(['?', '#']) {
        return Err(OpenError::BadUrl(
            "an s3:// URL takes no query or fragment; the endpoint and region come from the environment".into(),
        ));
    }
    if bucket.is_empty() {
        return Err(OpenError::MissingBucket);
    }
    let valid_bucket = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
        && bucket.ends_with(|c: char| c.is_ascii_alphanumeric());
    if !valid_bucket {
        return Err(OpenError::BadUrl(format!(
            "{bucket:?} is not a bucket name (3 to 63 lowercase letters, digits, `.` and `-`)"
        )));
    }
    let prefix = prefix.trim_end_matches('/');
    let prefix = if prefix.is_empty() {
        None
    } else {
        Some(
            MediaKey::parse(prefix)
                .map_err(|e| OpenError::BadUrl(format!("the prefix in the s3:// URL: {e}")))?,
        )
    };
    Ok(MediaLocation::S3 {
        bucket: bucket.to_owned(),
        prefix,
    })
}

/// How to reach an S3-compatible service. `Debug` hides the secret key.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Settings {
    /// `http(s)://host:port` of a non-AWS service (MinIO, Garage, R2, …); `None` for AWS.
    /// With an endpoint, requests use path-style addressing; plain `http://` is allowed only
    /// when an endpoint says so.
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl S3Settings {
    /// From the process environment: `MARQUEE_S3_ENDPOINT` (or `AWS_ENDPOINT_URL`),
    /// `AWS_REGION` (or `AWS_DEFAULT_REGION`, else `us-east-1`), `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY` and the optional `AWS_SESSION_TOKEN`.
    pub fn from_env() -> Result<Self, OpenError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// As [`Self::from_env`], with the variables looked up by `var` (for tests).
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Self, OpenError> {
        let get = |name: &str| {
            var(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let endpoint = get("MARQUEE_S3_ENDPOINT").or_else(|| get("AWS_ENDPOINT_URL"));
        if let Some(endpoint) = &endpoint {
            check_endpoint(endpoint)?;
        }
        Ok(Self {
            endpoint,
            region: get("AWS_REGION")
                .or_else(|| get("AWS_DEFAULT_REGION"))
                .unwrap_or_else(|| "us-east-1".to_owned()),
            access_key_id: get("AWS_ACCESS_KEY_ID")
                .ok_or(OpenError::MissingSetting("AWS_ACCESS_KEY_ID"))?,
            secret_access_key: get("AWS_SECRET_ACCESS_KEY")
                .ok_or(OpenError::MissingSetting("AWS_SECRET_ACCESS_KEY"))?,
            session_token: get("AWS_SESSION_TOKEN"),
        })
    }

    /// The endpoint as shown in messages: the URL given, or AWS's for the region.
    pub fn endpoint_for_display(&self) -> String {
        self.endpoint
            .clone()
            .unwrap_or_else(|| format!("https://s3.{}.amazonaws.com", self.region))
    }
}

pub(crate) fn check_endpoint(endpoint: &str) -> Result<(), OpenError> {
    let bad = |reason: &str| OpenError::BadSetting {
        name: "MARQUEE_S3_ENDPOINT",
        reason: reason.to_owned(),
    };
    let Some((scheme, rest)) = endpoint.split_once("://") else {
        return Err(bad("expected http://host:port or https://host"));
    };
    if scheme != "http" && scheme != "https" {
        return Err(bad("the endpoint must be an http:// or https:// URL"));
    }
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.contains('@') {
        return Err(bad(
            "credentials do not belong in the endpoint URL; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
        ));
    }
    if authority.is_empty() {
        return Err(bad("the endpoint URL has no host"));
    }
    Ok(())
}

impl fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Settings")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<hidden>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<hidden>"),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> Result<MediaLocation, OpenError> {
        MediaLocation::parse(Some(url), Path::new("/data"))
    }

    #[test]
    fn no_url_means_the_media_folder_under_the_data_folder() {
        let expected = MediaLocation::Local(PathBuf::from("/data/media"));
        assert_eq!(
            MediaLocation::parse(None, Path::new("/data")).unwrap(),
            expected
        );
        assert_eq!(parse("  ").unwrap(), expected);
    }

    #[test]
    fn paths_and_file_urls_name_local_folders() {
        assert_eq!(
            parse("/srv/media").unwrap(),
            MediaLocation::Local("/srv/media".into())
        );
        assert_eq!(
            parse("media").unwrap(),
            MediaLocation::Local("media".into())
        );
        assert_eq!(
            parse("file:///srv/media").unwrap(),
            MediaLocation::Local("/srv/media".into())
        );
        assert!(matches!(
            parse("file://srv/media"),
            Err(OpenError::BadUrl(_))
        ));
    }

    #[test]
    fn s3_urls_name_a_bucket_and_an_optional_prefix() {
        assert_eq!(
            parse("s3://films").unwrap(),
            MediaLocation::S3 {
                bucket: "films".into(),
                prefix: None
            }
        );
        assert_eq!(
            parse("s3://films/").unwrap(),
            MediaLocation::S3 {
                bucket: "films".into(),
                prefix: None
            }
        );
        assert_eq!(
            parse("s3://my.films-1/marquee/media/").unwrap(),
            MediaLocation::S3 {
                bucket: "my.films-1".into(),
                prefix: Some(MediaKey::parse("marquee/media").unwrap())
            }
        );
    }

    #[test]
    fn bad_s3_urls_say_what_is_wrong_without_echoing_credentials() {
        assert!(matches!(parse("s3://"), Err(OpenError::MissingBucket)));
        assert!(matches!(
            parse("s3:///prefix"),
            Err(OpenError::MissingBucket)
        ));
        assert!(matches!(parse("s3://Films"), Err(OpenError::BadUrl(_))));
        assert!(matches!(
            parse("s3://films/../x"),
            Err(OpenError::BadUrl(_))
        ));
        assert!(matches!(
            parse("s3://films?region=x"),
            Err(OpenError::BadUrl(_))
        ));
        assert!(matches!(parse("gs://films"), Err(OpenError::BadUrl(_))));
        let err = parse("s3://AKIA:topsecret@films/x").unwrap_err();
        assert!(matches!(err, OpenError::BadUrl(_)));
        assert!(!err.to_string().contains("topsecret"), "{err}");
    }

    #[test]
    fn settings_come_from_the_environment_with_defaults() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let s = S3Settings::from_lookup(env(&[
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:9000"),
            ("AWS_ACCESS_KEY_ID", "key"),
            ("AWS_SECRET_ACCESS_KEY", "hunter2"),
        ]))
        .unwrap();
        assert_eq!(s.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(s.region, "us-east-1");
        assert!(!format!("{s:?}").contains("hunter2"));

        let s = S3Settings::from_lookup(env(&[
            ("MARQUEE_S3_ENDPOINT", "http://minio:9000"),
            ("AWS_ENDPOINT_URL", "http://other:9000"),
            ("AWS_REGION", "eu-west-3"),
            ("AWS_ACCESS_KEY_ID", "key"),
            ("AWS_SECRET_ACCESS_KEY", "hunter2"),
        ]))
        .unwrap();
        assert_eq!(s.endpoint.as_deref(), Some("http://minio:9000"));
        assert_eq!(s.region, "eu-west-3");

        let missing = S3Settings::from_lookup(env(&[("AWS_ACCESS_KEY_ID", "key")])).unwrap_err();
        assert!(matches!(
            missing,
            OpenError::MissingSetting("AWS_SECRET_ACCESS_KEY")
        ));
        let bad = S3Settings::from_lookup(env(&[
            ("MARQUEE_S3_ENDPOINT", "http://key:hunter2@host"),
            ("AWS_ACCESS_KEY_ID", "key"),
            ("AWS_SECRET_ACCESS_KEY", "hunter2"),
        ]))
        .unwrap_err();
        assert!(matches!(bad, OpenError::BadSetting { .. }));
        assert!(!bad.to_string().contains("hunter2"));
    }
}
