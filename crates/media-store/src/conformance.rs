//! The conformance suite: what every backend must do, written once against the trait. Each
//! backend's test binary runs every function here on a fresh, empty storage (see
//! [`conformance_tests!`](crate::conformance_tests)), so the local folder and S3 are held to
//! the same rules. Panics on failure, like any test.

use crate::{ByteStream, MediaKey, MediaStorage, StorageError};
use bytes::Bytes;
use futures_util::StreamExt;
use std::ops::Range;
use std::sync::Arc;

fn key(s: &str) -> MediaKey {
    MediaKey::parse(s).unwrap()
}

/// Bytes whose value depends on their offset, so a shifted range is caught.
fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// The whole stream, checking that no chunk is larger than `max_chunk`.
async fn collect(mut stream: ByteStream, max_chunk: usize) -> Vec<u8> {
    let mut all = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.expect("reading a range");
        assert!(chunk.len() <= max_chunk, "a chunk of {} bytes", chunk.len());
        all.extend_from_slice(&chunk);
    }
    all
}

async fn read_range(storage: &dyn MediaStorage, k: &MediaKey, range: Range<u64>) -> Vec<u8> {
    let stream = storage
        .get_range(k, range.clone())
        .await
        .unwrap_or_else(|e| panic!("range {range:?} of {k}: {e}"));
    collect(stream, 4 * 1024 * 1024).await
}

pub async fn small_objects_read_back_whole_with_their_size_and_a_changing_etag(
    storage: Arc<dyn MediaStorage>,
) {
    let k = key("movies/1/hls/index.m3u8");
    assert_eq!(storage.head(&k).await.unwrap(), None);
    assert!(matches!(
        storage.get(&k).await,
        Err(StorageError::NotFound(_))
    ));

    let first = Bytes::from_static(b"#EXTM3U\n#EXT-X-VERSION:7\n");
    storage.put_bytes(&k, first.clone()).await.unwrap();
    let meta = storage
        .head(&k)
        .await
        .unwrap()
        .expect("the object after put");
    assert_eq!(meta.size, first.len() as u64);
    assert!(
        !meta.etag.is_empty() && !meta.etag.contains('"'),
        "{}",
        meta.etag
    );
    assert_eq!(storage.get(&k).await.unwrap(), first);

    let second = Bytes::from_static(b"#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n");
    storage.put_bytes(&k, second.clone()).await.unwrap();
    let replaced = storage.head(&k).await.unwrap().unwrap();
    assert_eq!(replaced.size, second.len() as u64);
    assert_ne!(replaced.etag, meta.etag, "new content, new ETag");
    assert_eq!(storage.get(&k).await.unwrap(), second);

    let empty = key("movies/1/empty.vtt");
    storage.put_bytes(&empty, Bytes::new()).await.unwrap();
    assert_eq!(storage.head(&empty).await.unwrap().unwrap().size, 0);
    assert!(storage.get(&empty).await.unwrap().is_empty());
}

pub async fn a_range_returns_exactly_the_requested_bytes(storage: Arc<dyn MediaStorage>) {
    let k = key("movies/2/source.mp4");
    let data = pattern(10_000, 2);
    storage
        .put_bytes(&k, Bytes::from(data.clone()))
        .await
        .unwrap();
    let size = data.len() as u64;
    let cases: [Range<u64>; 7] = [
        0..1,             // the first byte
        0..100,           // the start
        3_000..7_001,     // the middle
        size - 1..size,   // the last byte
        size - 500..size, // a suffix ("bytes=-500")
        9_000..size,      // an open end ("bytes=9000-")
        0..size,          // everything
    ];
    for range in cases {
        let got = read_range(storage.as_ref(), &k, range.clone()).await;
        assert!(
            got == data[range.start as usize..range.end as usize],
            "range {range:?} came back wrong ({} bytes)",
            got.len()
        );
    }
    assert!(
        read_range(storage.as_ref(), &k, size..size)
            .await
            .is_empty()
    );
}

pub async fn a_range_outside_the_object_or_of_a_missing_one_is_refused(
    storage: Arc<dyn MediaStorage>,
) {
    let k = key("movies/3/source.mp4");
    storage
        .put_bytes(&k, Bytes::from(pattern(1_000, 3)))
        .await
        .unwrap();
    #[expect(
        clippy::reversed_empty_ranges,
        reason = "a reversed range is one of the cases"
    )]
    let refused: [Range<u64>; 4] = [990..1_001, 1_000..1_001, 5_000..6_000, 10..5];
    for range in refused {
        match storage.get_range(&k, range.clone()).await {
            Err(StorageError::RangeNotSatisfiable { size, .. }) => assert_eq!(size, 1_000),
            Err(e) => panic!("range {range:?}: {e}"),
            Ok(_) => panic!("range {range:?} was served"),
        }
    }
    let missing = key("movies/3/missing.mp4");
    assert!(matches!(
        storage.get_range(&missing, 0..10).await,
        Err(StorageError::NotFound(_))
    ));
    assert!(matches!(
        storage.get_range(&missing, 0..0).await,
        Err(StorageError::NotFound(_))
    ));
    let dest = tempfile::tempdir().unwrap();
    assert!(matches!(
        storage.download_to(&missing, &dest.path().join("x")).await,
        Err(StorageError::NotFound(_))
    ));
}

pub async fn a_multi_megabyte_file_goes_up_from_disk_and_comes_back_in_ranges(
    storage: Arc<dyn MediaStorage>,
) {
    // Past the 8 MiB part size, so S3 takes it as a multipart upload of three parts.
    const SIZE: usize = 21 * 1024 * 1024 + 12_345;
    const PART: u64 = 8 * 1024 * 1024;
    let data = pattern(SIZE, 4);
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("film.mp4");
    std::fs::write(&source, &data).unwrap();

    let k = key("movies/4/source.mp4");
    assert_eq!(storage.put_file(&k, &source).await.unwrap(), SIZE as u64);
    let size = storage.head(&k).await.unwrap().unwrap().size;
    assert_eq!(size, SIZE as u64);

    for range in [
        0..1,
        PART - 10..PART + 10,       // across the first part boundary
        2 * PART - 1..2 * PART + 1, // across the second
        1_000_000..3_500_000,
        size - 1..size,
        size - 1_048_576..size,
    ] {
        let got = read_range(storage.as_ref(), &k, range.clone()).await;
        assert!(
            got == data[range.start as usize..range.end as usize],
            "range {range:?} came back wrong"
        );
    }
    let whole = read_range(storage.as_ref(), &k, 0..size).await;
    assert!(whole == data, "the whole file came back different");

    let copy = dir.path().join("out/copy.mp4");
    assert_eq!(storage.download_to(&k, &copy).await.unwrap(), SIZE as u64);
    assert!(
        std::fs::read(&copy).unwrap() == data,
        "the download differs"
    );

    // A missing source file is an error and stores nothing.
    let nothing = key("movies/4/nothing.mp4");
    assert!(
        storage
            .put_file(&nothing, &dir.path().join("no-such-file"))
            .await
            .is_err()
    );
    assert_eq!(storage.head(&nothing).await.unwrap(), None);
}

pub async fn listing_and_deleting_work_on_whole_folders(storage: Arc<dyn MediaStorage>) {
    for name in [
        "movies/5/source.mp4",
        "movies/5/hls/720p/seg-00001.ts",
        "movies/5/hls/720p/index.m3u8",
        "movies/50/source.mp4",
        "movies/6/source.mp4",
    ] {
        storage
            .put_bytes(&key(name), Bytes::from(name.as_bytes().to_vec()))
            .await
            .unwrap();
    }
    let listed = storage.list(&key("movies/5")).await.unwrap();
    let names: Vec<_> = listed.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(
        names,
        [
            "movies/5/hls/720p/index.m3u8",
            "movies/5/hls/720p/seg-00001.ts",
            "movies/5/source.mp4"
        ],
        "a folder's listing holds its objects at any depth, and not its sibling movies/50"
    );
    assert_eq!(listed[2].meta.size, "movies/5/source.mp4".len() as u64);
    assert_eq!(storage.list(&key("movies/5/hls")).await.unwrap().len(), 2);
    assert!(storage.list(&key("movies/7")).await.unwrap().is_empty());

    assert_eq!(storage.delete_prefix(&key("movies/5")).await.unwrap(), 3);
    assert!(storage.list(&key("movies/5")).await.unwrap().is_empty());
    assert_eq!(
        storage.head(&key("movies/5/source.mp4")).await.unwrap(),
        None
    );
    assert!(
        storage
            .head(&key("movies/50/source.mp4"))
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(storage.delete_prefix(&key("movies/5")).await.unwrap(), 0);

    // An object named like the folder is not in it.
    let lone = key("movies/9");
    storage
        .put_bytes(&lone, Bytes::from_static(b"9"))
        .await
        .unwrap();
    assert_eq!(storage.delete_prefix(&lone).await.unwrap(), 0);
    assert!(storage.list(&lone).await.unwrap().is_empty());
    assert!(storage.head(&lone).await.unwrap().is_some());
    storage.delete(&lone).await.unwrap();

    let k = key("movies/6/source.mp4");
    storage.delete(&k).await.unwrap();
    assert_eq!(storage.head(&k).await.unwrap(), None);
    storage.delete(&k).await.expect("deleting twice is fine");
    let all: Vec<_> = storage.list(&key("movies")).await.unwrap();
    assert_eq!(all.len(), 1, "{all:?}");
}

pub async fn concurrent_writers_of_one_key_leave_one_whole_version(storage: Arc<dyn MediaStorage>) {
    let k = key("movies/8/poster.jpg");
    let versions: Vec<Vec<u8>> = (0..8).map(|i| pattern(100_000, 80 + i)).collect();
    let writers = versions.iter().cloned().map(|v| {
        let (storage, k) = (storage.clone(), k.clone());
        tokio::spawn(async move { storage.put_bytes(&k, Bytes::from(v)).await })
    });
    for writer in writers.collect::<Vec<_>>() {
        writer.await.unwrap().unwrap();
    }
    let stored = storage.get(&k).await.unwrap();
    assert!(
        versions.iter().any(|v| v[..] == stored[..]),
        "a mix of writes"
    );
    assert_eq!(storage.list(&key("movies/8")).await.unwrap().len(), 1);
}

/// Runs every conformance function as its own test. `$make` is an expression giving
/// `Option<(Arc<dyn MediaStorage>, guard)>`: `None` skips (after saying so), and the guard
/// (a temporary folder, say) lives as long as the test.
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@each $make,
            small_objects_read_back_whole_with_their_size_and_a_changing_etag,
            a_range_returns_exactly_the_requested_bytes,
            a_range_outside_the_object_or_of_a_missing_one_is_refused,
            a_multi_megabyte_file_goes_up_from_disk_and_comes_back_in_ranges,
            listing_and_deleting_work_on_whole_folders,
            concurrent_writers_of_one_key_leave_one_whole_version);
    };
    (@each $make:expr, $($name:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some((storage, _guard)) = $make.await else { return };
                $crate::conformance::$name(storage).await;
            }
        )*
    };
}
