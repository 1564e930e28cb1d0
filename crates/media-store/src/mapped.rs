//! A range of a stored file as memory the kernel maps from its page cache, rather than a copy
//! read into a buffer. Sending a mapped range copies it once (into the socket); reading it
//! first copied it twice, and those two copies were most of the CPU that direct play cost
//! (`bench/stream.sh`, see bench/README.md "Streaming").

use bytes::Bytes;
use std::fs::File;
use std::io;

/// `len` bytes of `file` from `pos`, mapped read-only and faulted in at once.
#[allow(unsafe_code)]
pub(crate) fn map_range(file: &File, pos: u64, len: u64) -> io::Result<Bytes> {
    let len = usize::try_from(len).map_err(io::Error::other)?;
    // SAFETY: memmap2 marks mapping unsafe because another process could change or truncate
    // the file while it is mapped: the bytes would change under the response (a torn range)
    // or, past a truncation, touching them would raise SIGBUS. Marquee never writes a stored
    // object in place: every write goes to a temporary file that is renamed over the name
    // (`write_atomically`), and removal unlinks, so the inode mapped here keeps its contents
    // until the mapping is dropped. Only someone editing the media folder by hand, in place,
    // behind Marquee's back could break this; README "Known limits" says so.
    let map = unsafe {
        memmap2::MmapOptions::new()
            .offset(pos)
            .len(len)
            .populate()
            .map(file)?
    };
    Ok(Bytes::from_owner(map))
}
