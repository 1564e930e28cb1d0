//! Signed, expiring stream URLs for devices.
//!
//! A TV's or a phone's player fetches `/media/…` itself and can not send the viewer's bearer
//! token, so the playback API hands a device (a caller authenticated by token) URLs that carry
//! their own proof: `?u=<user id>&exp=<unix seconds>&sig=<base64url HMAC-SHA256>`, valid for
//! [`LIFETIME_S`]. The MAC covers the film's id, the user's id and the expiry, under a key
//! derived for this purpose only ([`Keys::stream_key`]); a changed `u`, `exp` or `sig`, or
//! another film's path, fails the comparison, which is constant-time.
//!
//! The signature is **per film, not per file**. HLS playlists name their segments and
//! renditions with relative URIs, and resolving a relative URI drops the query string, so a
//! player given a signed master playlist would fetch unsigned segments. Serving a playlist that
//! was requested with a signature therefore appends the same query to every relative URI in it
//! ([`sign_playlists`], [`rewrite_playlist`]). With one signature for the whole film that
//! rewrite is a plain append: no per-file signing while serving, no knowledge of which segments
//! exist, and a segment URL is no more sensitive than the film itself. The cost: a leaked URL
//! opens every file of that one film (never another film) until it expires.
//!
//! A signed URL stays valid until `exp` even if the token that fetched it is revoked; six hours
//! bounds that, and is long enough for a film with pauses.

use crate::auth::Keys;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use marquee_domain::{MovieId, UserId};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// How long a signed URL works: six hours.
pub const LIFETIME_S: i64 = 6 * 3600;

/// Why a signed URL was refused. All of them are answered 403.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// Some of `u`, `exp` and `sig` are missing, repeated or not numbers.
    #[error("This link's signature is incomplete.")]
    Malformed,
    /// The MAC does not match: the link was changed, or is for another film.
    #[error("This link's signature is not valid.")]
    Invalid,
    #[error("This link has expired. Ask the app for a new one.")]
    Expired,
}

/// The signature's parameters as found in a query string.
#[derive(Debug, Default)]
struct Params<'a> {
    user: Option<&'a str>,
    exp: Option<&'a str>,
    sig: Option<&'a str>,
    repeated: bool,
}

impl<'a> Params<'a> {
    /// Picks `u`, `exp` and `sig` out of a raw query. Their values are digits and base64url,
    /// which need no percent-decoding; anything else simply fails to verify.
    fn parse(query: &'a str) -> Self {
        let mut p = Self::default();
        for pair in query.split('&') {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let slot = match k {
                "u" => &mut p.user,
                "exp" => &mut p.exp,
                "sig" => &mut p.sig,
                _ => continue,
            };
            p.repeated |= slot.replace(v).is_some();
        }
        p
    }

    fn is_empty(&self) -> bool {
        self.user.is_none() && self.exp.is_none() && self.sig.is_none()
    }
}

fn mac(keys: &Keys, film: MovieId, user: UserId, expires_s: i64) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(keys.stream_key()).expect("any key length");
    // Fields separated by NUL so no two (film, user, expiry) triples share an input.
    mac.update(format!("stream\0{}\0{}\0{}", film.0, user.0, expires_s).as_bytes());
    mac
}

/// The query string that lets `user` stream `film` until `expires_s` (Unix seconds).
pub fn signature_query(keys: &Keys, film: MovieId, user: UserId, expires_s: i64) -> String {
    let sig = URL_SAFE_NO_PAD.encode(mac(keys, film, user, expires_s).finalize().into_bytes());
    format!("u={}&exp={expires_s}&sig={sig}", user.0)
}

/// Checks the signature in a stream URL's query, if it has one, as of `now_s`.
///
/// `Ok(None)`: the query carries no signature (the normal access rule applies). `Ok(Some(user))`:
/// a valid, unexpired signature made for `user` and this film. `Err`: a signature is present
/// and must be refused, whatever else the request carries.
pub fn verify_at(
    keys: &Keys,
    film: MovieId,
    query: Option<&str>,
    now_s: i64,
) -> Result<Option<UserId>, SignatureError> {
    let p = Params::parse(query.unwrap_or(""));
    if p.is_empty() {
        return Ok(None);
    }
    let (Some(user), Some(exp), Some(sig), false) = (p.user, p.exp, p.sig, p.repeated) else {
        return Err(SignatureError::Malformed);
    };
    let (Ok(user), Ok(exp)) = (user.parse::<i64>(), exp.parse::<i64>()) else {
        return Err(SignatureError::Malformed);
    };
    let provided = URL_SAFE_NO_PAD
        .decode(sig)
        .map_err(|_| SignatureError::Invalid)?;
    let expected = mac(keys, film, UserId(user), exp).finalize().into_bytes();
    // Authenticity first, so a forged `exp` reads as tampering rather than as expiry.
    if !bool::from(expected.as_slice().ct_eq(&provided)) {
        return Err(SignatureError::Invalid);
    }
    if now_s >= exp {
        return Err(SignatureError::Expired);
    }
    Ok(Some(UserId(user)))
}

/// [`verify_at`] now.
pub fn verify(
    keys: &Keys,
    film: MovieId,
    query: Option<&str>,
) -> Result<Option<UserId>, SignatureError> {
    verify_at(keys, film, query, now_s())
}

fn now_s() -> i64 {
    marquee_domain::time_fmt::now_ms().div_euclid(1000)
}

/// Signs URLs for one playback answer: for a device, appends the signature; for anyone else
/// (a browser with its cookie, or nobody), leaves them as they are.
#[derive(Debug, Clone)]
pub struct UrlSigner {
    query: Option<String>,
}

impl UrlSigner {
    /// For a caller that proved itself with a bearer token. `None` for the others.
    pub fn for_device(keys: &Keys, film: MovieId, device_user: Option<UserId>) -> Self {
        Self {
            query: device_user.map(|u| signature_query(keys, film, u, now_s() + LIFETIME_S)),
        }
    }

    /// Whether the request was authenticated with `Authorization: Bearer …` (a device or a
    /// script) rather than a cookie. Callers combine it with a successful authentication.
    pub fn is_bearer(headers: &HeaderMap) -> bool {
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .is_some_and(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
    }

    pub fn url(&self, url: String) -> String {
        match &self.query {
            Some(q) => append_query(&url, q),
            None => url,
        }
    }
}

/// `url` with `query` added to whatever query it already has (before any fragment).
fn append_query(url: &str, query: &str) -> String {
    let (base, fragment) = match url.find('#') {
        Some(i) => url.split_at(i),
        None => (url, ""),
    };
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}{query}{fragment}")
}

/// A URI to this server that resolution against the playlist's own URL would strip of the
/// query: anything without a scheme and without a host. An absolute URI to elsewhere never
/// receives the signature.
fn is_local_reference(uri: &str) -> bool {
    let scheme = uri
        .find(':')
        .is_some_and(|i| i > 0 && !uri[..i].contains(['/', '?', '#']));
    !uri.is_empty() && !scheme && !uri.starts_with("//")
}

/// Adds `query` to every relative URI in an HLS playlist: URI lines (segments, renditions) and
/// the `URI="…"` attributes of tags (`EXT-X-MEDIA`, `EXT-X-MAP`, `EXT-X-I-FRAME-STREAM-INF`, …).
/// Line endings and everything else are kept as they are.
pub fn rewrite_playlist(playlist: &str, query: &str) -> String {
    let mut out = String::with_capacity(playlist.len() + playlist.len() / 4);
    for line in playlist.split_inclusive('\n') {
        let content = line.trim_end_matches(['\r', '\n']);
        let ending = &line[content.len()..];
        let trimmed = content.trim();
        if trimmed.is_empty() {
            out.push_str(line);
        } else if trimmed.starts_with('#') {
            out.push_str(&rewrite_uri_attributes(content, query));
            out.push_str(ending);
        } else if is_local_reference(trimmed) {
            out.push_str(&append_query(trimmed, query));
            out.push_str(ending);
        } else {
            out.push_str(line);
        }
    }
    out
}

fn rewrite_uri_attributes(tag: &str, query: &str) -> String {
    const ATTR: &str = "URI=\"";
    let mut out = String::with_capacity(tag.len());
    let mut rest = tag;
    while let Some(i) = rest.find(ATTR) {
        let (before, after) = rest.split_at(i + ATTR.len());
        out.push_str(before);
        let Some(end) = after.find('"') else {
            rest = after;
            break;
        };
        let uri = &after[..end];
        if is_local_reference(uri) {
            out.push_str(&append_query(uri, query));
        } else {
            out.push_str(uri);
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// The largest playlist [`sign_playlists`] rewrites (a feature film's media playlist is tens of
/// kilobytes).
const MAX_PLAYLIST_BYTES: usize = 8 * 1024 * 1024;

fn is_playlist(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .is_some_and(|t| {
            matches!(
                t.as_str(),
                "application/vnd.apple.mpegurl" | "application/x-mpegurl" | "audio/mpegurl"
            )
        })
}

/// Middleware: when a playlist under `/media/` was requested with a signature (and therefore
/// served, the handler having accepted it), carries the signature into the playlist's relative
/// URIs so the player's next requests are signed too. Everything else passes untouched.
///
/// The rewritten body differs from the stored object, so its validators go (`ETag`,
/// `Last-Modified`, `Content-Length`) and it is not stored by caches: the signature in it expires.
pub async fn sign_playlists(req: Request, next: Next) -> Response {
    let signature = (req.method() == Method::GET && req.uri().path().starts_with("/media/"))
        .then(|| req.uri().query())
        .flatten()
        .map(Params::parse)
        .and_then(|p| match (p.user, p.exp, p.sig) {
            (Some(u), Some(exp), Some(sig)) => Some(format!("u={u}&exp={exp}&sig={sig}")),
            _ => None,
        });
    let res = next.run(req).await;
    let Some(query) = signature else {
        return res;
    };
    if res.status() != StatusCode::OK || !is_playlist(res.headers()) {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_PLAYLIST_BYTES).await {
        Ok(b) => b,
        Err(e) => {
            return crate::error::AppError::Internal(
                anyhow::Error::new(e).context("reading a playlist to sign"),
            )
            .into_response();
        }
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let signed = rewrite_playlist(text, &query);
    for h in [header::ETAG, header::LAST_MODIFIED, header::CONTENT_LENGTH] {
        parts.headers.remove(h);
    }
    parts.headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Response::from_parts(parts, Body::from(signed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::routing::get;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    fn keys() -> Keys {
        Keys::new(&[9; 32]).unwrap()
    }

    const FILM: MovieId = MovieId(7);
    const ANN: UserId = UserId(3);
    const NOW: i64 = 1_800_000_000;

    #[test]
    fn a_signed_query_verifies_for_its_film_until_it_expires() {
        let q = signature_query(&keys(), FILM, ANN, NOW + 60);
        assert!(q.starts_with("u=3&exp=1800000060&sig="), "{q}");
        assert_eq!(verify_at(&keys(), FILM, Some(&q), NOW), Ok(Some(ANN)));
        assert_eq!(verify_at(&keys(), FILM, Some(&q), NOW + 59), Ok(Some(ANN)));
        assert_eq!(
            verify_at(&keys(), FILM, Some(&q), NOW + 60),
            Err(SignatureError::Expired)
        );
        assert_eq!(
            verify_at(&keys(), MovieId(8), Some(&q), NOW),
            Err(SignatureError::Invalid)
        );
        assert_eq!(
            verify_at(&Keys::new(&[1; 32]).unwrap(), FILM, Some(&q), NOW),
            Err(SignatureError::Invalid)
        );
    }

    #[test]
    fn changing_any_part_of_the_signature_is_refused() {
        let q = signature_query(&keys(), FILM, ANN, NOW + 60);
        let sig = q.split("sig=").nth(1).unwrap();
        let flipped = if sig.starts_with('A') { "B" } else { "A" };
        for tampered in [
            q.replace("u=3", "u=4"),
            q.replace("exp=1800000060", "exp=1900000060"),
            format!("u=3&exp=1800000060&sig={flipped}{}", &sig[1..]),
            format!("u=3&exp=1800000060&sig={}", &sig[..sig.len() - 2]),
            "u=3&exp=1800000060&sig=!!".to_owned(),
        ] {
            assert_eq!(
                verify_at(&keys(), FILM, Some(&tampered), NOW),
                Err(SignatureError::Invalid),
                "{tampered}"
            );
        }
        // An expired signature that is also tampered with reads as tampering.
        assert_eq!(
            verify_at(&keys(), FILM, Some(&q.replace("u=3", "u=4")), NOW + 999),
            Err(SignatureError::Invalid)
        );
    }

    #[test]
    fn no_signature_is_not_an_error_but_half_of_one_is() {
        assert_eq!(verify_at(&keys(), FILM, None, NOW), Ok(None));
        assert_eq!(verify_at(&keys(), FILM, Some(""), NOW), Ok(None));
        assert_eq!(verify_at(&keys(), FILM, Some("t=12"), NOW), Ok(None));
        let q = signature_query(&keys(), FILM, ANN, NOW + 60);
        for bad in [
            "u=3&exp=1800000060".to_owned(),
            "sig=abc".to_owned(),
            "u=x&exp=1&sig=abc".to_owned(),
            format!("{q}&u=3"),
        ] {
            assert_eq!(
                verify_at(&keys(), FILM, Some(&bad), NOW),
                Err(SignatureError::Malformed),
                "{bad}"
            );
        }
        // Other parameters around a valid signature do not matter.
        assert_eq!(
            verify_at(&keys(), FILM, Some(&format!("t=1&{q}&x")), NOW),
            Ok(Some(ANN))
        );
    }

    #[test]
    fn only_devices_get_signed_urls() {
        let device = UrlSigner::for_device(&keys(), FILM, Some(ANN));
        let url = device.url("https://films.example/media/the-work/file".into());
        let (path, query) = url.split_once('?').unwrap();
        assert_eq!(path, "https://films.example/media/the-work/file");
        assert_eq!(verify(&keys(), FILM, Some(query)), Ok(Some(ANN)));
        let exp: i64 = query.split("exp=").nth(1).unwrap()[..10].parse().unwrap();
        assert!((exp - now_s() - LIFETIME_S).abs() <= 2);
        let browser = UrlSigner::for_device(&keys(), FILM, None);
        assert_eq!(browser.url("/media/x/file".into()), "/media/x/file");
        let mut h = HeaderMap::new();
        assert!(!UrlSigner::is_bearer(&h));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer mq_x"),
        );
        assert!(UrlSigner::is_bearer(&h));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic eDp5"),
        );
        assert!(!UrlSigner::is_bearer(&h));
    }

    #[test]
    fn queries_are_appended_before_fragments_and_after_existing_queries() {
        assert_eq!(append_query("a.ts", "q=1"), "a.ts?q=1");
        assert_eq!(append_query("a.ts?x=2", "q=1"), "a.ts?x=2&q=1");
        assert_eq!(append_query("a.ts#t", "q=1"), "a.ts?q=1#t");
    }

    #[test]
    fn every_relative_uri_in_a_playlist_carries_the_signature() {
        let master = "#EXTM3U\r\n\
            #EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"English\",LANGUAGE=\"en\",DEFAULT=YES,URI=\"subs/en.m3u8\"\r\n\
            #EXT-X-STREAM-INF:BANDWIDTH=1400000,RESOLUTION=1280x720,CODECS=\"avc1.64001f,mp4a.40.2\",SUBTITLES=\"subs\"\r\n\
            720p/index.m3u8\r\n\
            \r\n\
            #EXT-X-STREAM-INF:BANDWIDTH=800000\r\n\
            https://cdn.example/480p/index.m3u8\r\n";
        let signed = rewrite_playlist(master, "u=1&exp=2&sig=s");
        assert_eq!(
            signed,
            "#EXTM3U\r\n\
            #EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"English\",LANGUAGE=\"en\",DEFAULT=YES,URI=\"subs/en.m3u8?u=1&exp=2&sig=s\"\r\n\
            #EXT-X-STREAM-INF:BANDWIDTH=1400000,RESOLUTION=1280x720,CODECS=\"avc1.64001f,mp4a.40.2\",SUBTITLES=\"subs\"\r\n\
            720p/index.m3u8?u=1&exp=2&sig=s\r\n\
            \r\n\
            #EXT-X-STREAM-INF:BANDWIDTH=800000\r\n\
            https://cdn.example/480p/index.m3u8\r\n"
        );
        let media = "#EXTM3U\n#EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:4.0,\nseg00000.ts\n#EXTINF:4.0,\n/media/x/hls/seg00001.ts\n#EXT-X-ENDLIST";
        assert_eq!(
            rewrite_playlist(media, "q=1"),
            "#EXTM3U\n#EXT-X-MAP:URI=\"init.mp4?q=1\"\n#EXTINF:4.0,\nseg00000.ts?q=1\n#EXTINF:4.0,\n/media/x/hls/seg00001.ts?q=1\n#EXT-X-ENDLIST"
        );
        assert!(!is_local_reference("//cdn.example/a.ts"));
        assert!(!is_local_reference("data:text/plain,x"));
        assert!(!is_local_reference("a:b/c.ts"));
        assert!(is_local_reference("dir/a:b.ts"));
    }

    async fn serve(
        uri: &str,
        content_type: &'static str,
        status: StatusCode,
    ) -> (StatusCode, HeaderMap, String) {
        let app = Router::new()
            .route(
                "/media/the-work/hls/{*path}",
                get(move || async move {
                    (
                        status,
                        [
                            (header::CONTENT_TYPE, content_type),
                            (header::ETAG, "\"v1\""),
                        ],
                        "#EXTM3U\n#EXTINF:4.0,\nseg0.ts\n",
                    )
                }),
            )
            .layer(axum::middleware::from_fn(sign_playlists));
        let res = app
            .oneshot(axum::http::Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let (status, headers) = (res.status(), res.headers().clone());
        let body = res.into_body().collect().await.unwrap().to_bytes();
        (status, headers, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn playlists_fetched_with_a_signature_are_served_with_signed_uris() {
        let q = "u=1&exp=2&sig=abc";
        let playlist = "application/vnd.apple.mpegurl";
        let (status, headers, body) = serve(
            &format!("/media/the-work/hls/master.m3u8?{q}"),
            playlist,
            StatusCode::OK,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, format!("#EXTM3U\n#EXTINF:4.0,\nseg0.ts?{q}\n"));
        assert!(headers.get(header::ETAG).is_none());
        assert_eq!(headers[header::CACHE_CONTROL], "private, no-store");
        // Without a signature, or for anything but a playlist, nothing changes.
        let (_, headers, body) =
            serve("/media/the-work/hls/master.m3u8", playlist, StatusCode::OK).await;
        assert_eq!(body, "#EXTM3U\n#EXTINF:4.0,\nseg0.ts\n");
        assert_eq!(headers[header::ETAG], "\"v1\"");
        let (_, _, body) = serve(
            &format!("/media/the-work/hls/seg0.ts?{q}"),
            "video/mp2t",
            StatusCode::OK,
        )
        .await;
        assert_eq!(body, "#EXTM3U\n#EXTINF:4.0,\nseg0.ts\n");
        let (status, _, body) = serve(
            &format!("/media/the-work/hls/master.m3u8?{q}"),
            playlist,
            StatusCode::PARTIAL_CONTENT,
        )
        .await;
        assert_eq!(
            (status, body.as_str()),
            (
                StatusCode::PARTIAL_CONTENT,
                "#EXTM3U\n#EXTINF:4.0,\nseg0.ts\n"
            )
        );
    }
}
