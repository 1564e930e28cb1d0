//! Getting rows out of files the same way for every reader: gzip or plain is told by the
//! content (the `1f 8b` magic bytes), not the name, because downloads lose and gain `.gz`
//! freely; a UTF-8 byte order mark is dropped because spreadsheet programs add one; CSV rows
//! and JSON objects come with the line they start on, so every problem can name it.

use crate::{Origin, Problem};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

const BUFFER: usize = 64 * 1024;
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Opens a file for reading, decompressing it when it is gzip (whatever its name) and skipping
/// a UTF-8 byte order mark.
pub fn open(path: &Path) -> io::Result<Box<dyn BufRead + Send>> {
    let mut file = File::open(path)?;
    let mut magic = [0u8; 2];
    let n = read_up_to(&mut file, &mut magic)?;
    file.seek(SeekFrom::Start(0))?;
    if n == 2 && magic == [0x1f, 0x8b] {
        let gz = flate2::read::MultiGzDecoder::new(BufReader::with_capacity(BUFFER, file));
        Ok(Box::new(strip_bom(gz)?))
    } else {
        Ok(Box::new(strip_bom(file)?))
    }
}

/// Wraps `reader` so that a leading UTF-8 byte order mark is not seen.
pub fn strip_bom<R: Read>(mut reader: R) -> io::Result<BufReader<io::Chain<Cursor<Vec<u8>>, R>>> {
    let mut head = [0u8; 3];
    let n = read_up_to(&mut reader, &mut head)?;
    let kept = if head[..n] == *BOM {
        Vec::new()
    } else {
        head[..n].to_vec()
    };
    Ok(BufReader::with_capacity(
        BUFFER,
        Cursor::new(kept).chain(reader),
    ))
}

/// Reads until `buf` is full or the input ends; returns how many bytes were read.
fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match reader.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// How a delimited file is written.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Dialect {
    pub delimiter: u8,
    /// RFC 4180 double quotes; IMDb's TSV files have none and use quote characters literally.
    pub quoting: bool,
}

impl Dialect {
    pub const CSV: Self = Self {
        delimiter: b',',
        quoting: true,
    };
    pub const TSV_UNQUOTED: Self = Self {
        delimiter: b'\t',
        quoting: false,
    };
    pub const TSV: Self = Self {
        delimiter: b'\t',
        quoting: true,
    };
}

/// One data row of a delimited file and the line it starts on.
#[derive(Debug)]
pub(crate) struct Row {
    pub line: u64,
    pub record: csv::StringRecord,
}

impl Row {
    /// The cell at `index`, trimmed; empty when the row is short.
    pub fn get(&self, index: usize) -> &str {
        self.record.get(index).unwrap_or("").trim()
    }

    /// The cell of an optional column.
    pub fn opt(&self, index: Option<usize>) -> &str {
        index.map_or("", |i| self.get(i))
    }
}

/// A delimited file read row by row, with its header, checking that every row has as many
/// fields as the header.
pub(crate) struct CsvRows<R> {
    path: PathBuf,
    reader: csv::Reader<R>,
    headers: Vec<String>,
    multiline: Vec<usize>,
    done: bool,
}

impl CsvRows<Box<dyn BufRead + Send>> {
    /// Opens `path` (gzip or plain) and reads its header.
    pub fn open(path: &Path, dialect: Dialect) -> Result<Self, Problem> {
        let reader = open(path).map_err(|e| Problem::io(path, &e))?;
        Self::from_reader(path, reader, dialect)
    }
}

impl<R: Read> CsvRows<R> {
    /// Reads the header of `reader`; `path` names it in problems.
    pub fn from_reader(path: &Path, reader: R, dialect: Dialect) -> Result<Self, Problem> {
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(dialect.delimiter)
            .quoting(dialect.quoting)
            .flexible(true)
            .has_headers(true)
            .from_reader(reader);
        let headers: Vec<String> = reader
            .headers()
            .map_err(|e| Problem::file(path, format!("header can not be read: {e}")))?
            .iter()
            .map(|h| h.trim().to_owned())
            .collect();
        if headers.iter().all(String::is_empty) {
            return Err(Problem::file(path, "is empty: no header line"));
        }
        Ok(Self {
            path: path.to_owned(),
            reader,
            headers,
            multiline: Vec::new(),
            done: false,
        })
    }

    /// Lets the given columns hold line breaks. In any other column a line break means a quote
    /// was opened and never closed, which swallowed the lines after it, so the row is rejected.
    pub fn allow_line_breaks_in(&mut self, columns: impl IntoIterator<Item = usize>) {
        self.multiline.extend(columns);
    }

    /// The file, for origins and problems.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The column names, trimmed.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// The index of a column, matched exactly or else ignoring case.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|h| h == name).or_else(|| {
            self.headers
                .iter()
                .position(|h| h.eq_ignore_ascii_case(name))
        })
    }

    /// The indexes of columns that must be there.
    pub fn require<const N: usize>(&self, names: [&str; N]) -> Result<[usize; N], Problem> {
        let mut out = [0; N];
        for (slot, name) in out.iter_mut().zip(names) {
            *slot = self.column(name).ok_or_else(|| self.missing_column(name))?;
        }
        Ok(out)
    }

    /// The problem for a column that is not in the header.
    pub fn missing_column(&self, name: &str) -> Problem {
        Problem::at(
            &self.path,
            1,
            format!(
                "has no column {name:?} (its columns are: {})",
                self.headers.join(", ")
            ),
        )
    }

    /// An origin on `line` of this file.
    pub fn origin(&self, line: u64) -> Origin {
        Origin::line(&self.path, line)
    }

    /// A problem on `line` of this file.
    pub fn problem(&self, line: u64, message: impl Into<String>) -> Problem {
        Problem::at(&self.path, line, message)
    }
}

impl<R: Read> Iterator for CsvRows<R> {
    type Item = Result<Row, Problem>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut record = csv::StringRecord::new();
        match self.reader.read_record(&mut record) {
            Ok(false) => {
                self.done = true;
                None
            }
            Ok(true) => {
                let line = record.position().map_or(0, csv::Position::line);
                let runaway = record
                    .iter()
                    .enumerate()
                    .any(|(i, f)| f.contains('\n') && !self.multiline.contains(&i));
                if runaway {
                    let last = self.reader.position().line().saturating_sub(1).max(line);
                    let message = format!(
                        "a quoted field runs on to line {last}: is a closing quote missing?"
                    );
                    return Some(Err(self.problem(line, message)));
                }
                if record.len() != self.headers.len() {
                    let message = format!(
                        "has {} fields where the header has {}",
                        record.len(),
                        self.headers.len()
                    );
                    return Some(Err(self.problem(line, message)));
                }
                Some(Ok(Row { line, record }))
            }
            Err(e) => {
                let line = e.position().map(csv::Position::line);
                let problem = match e.kind() {
                    csv::ErrorKind::Io(io) => {
                        self.done = true;
                        Problem::file(&self.path, format!("stopped reading: {io}"))
                    }
                    csv::ErrorKind::Utf8 { pos, .. } => Problem::new(
                        Origin {
                            path: self.path.clone(),
                            line: pos.as_ref().map(csv::Position::line).or(line),
                        },
                        "is not UTF-8 text",
                    ),
                    _ => {
                        // Any other error leaves the reader in an unknown state: stop here.
                        self.done = true;
                        Problem::new(
                            Origin {
                                path: self.path.clone(),
                                line,
                            },
                            format!("stopped reading: {e}"),
                        )
                    }
                };
                Some(Err(problem))
            }
        }
    }
}

/// JSON objects read one at a time from either a top-level array (`[{...}, {...}]`) or one
/// object per line (JSON Lines), each with the line it starts on. Only one object is held in
/// memory at a time, so a large catalog streams like a CSV.
pub(crate) struct JsonObjects<R> {
    path: PathBuf,
    reader: R,
    line: u64,
    state: JsonState,
    buf: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JsonState {
    Start,
    Array,
    Lines,
    Done,
}

/// A JSON object and the line it starts on.
pub(crate) type JsonObject = (u64, serde_json::Map<String, serde_json::Value>);

impl<R: BufRead> JsonObjects<R> {
    pub fn new(path: &Path, reader: R) -> Self {
        Self {
            path: path.to_owned(),
            reader,
            line: 1,
            state: JsonState::Start,
            buf: Vec::new(),
        }
    }

    fn peek(&mut self) -> io::Result<Option<u8>> {
        loop {
            match self.reader.fill_buf() {
                Ok(b) => return Ok(b.first().copied()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    fn bump(&mut self, byte: u8) {
        if byte == b'\n' {
            self.line += 1;
        }
        self.reader.consume(1);
    }

    fn skip_space(&mut self) -> io::Result<Option<u8>> {
        while let Some(b) = self.peek()? {
            if b.is_ascii_whitespace() {
                self.bump(b);
            } else {
                return Ok(Some(b));
            }
        }
        Ok(None)
    }

    /// Copies one JSON value into `self.buf`: an object or array up to its matching bracket,
    /// or a scalar up to the next separator. Returns false if the input ends inside it.
    fn take_value(&mut self) -> io::Result<bool> {
        self.buf.clear();
        let mut depth = 0usize;
        let mut in_string = false;
        let mut escaped = false;
        while let Some(b) = self.peek()? {
            if depth == 0 && !in_string && !self.buf.is_empty() {
                let opened = matches!(self.buf[0], b'{' | b'[');
                if opened || matches!(b, b',' | b']' | b'}') || b.is_ascii_whitespace() {
                    return Ok(true);
                }
            }
            self.bump(b);
            self.buf.push(b);
            if in_string {
                if escaped {
                    escaped = false;
                } else if b == b'\\' {
                    escaped = true;
                } else if b == b'"' {
                    in_string = false;
                }
                continue;
            }
            match b {
                b'"' => in_string = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        Ok(depth == 0 && !in_string && !self.buf.is_empty())
    }

    fn step(&mut self) -> io::Result<Option<Result<JsonObject, Problem>>> {
        loop {
            let Some(b) = self.skip_space()? else {
                if self.state == JsonState::Array {
                    self.state = JsonState::Done;
                    return Ok(Some(Err(Problem::at(
                        &self.path,
                        self.line,
                        "the file ends before the array's closing ']'",
                    ))));
                }
                self.state = JsonState::Done;
                return Ok(None);
            };
            match (self.state, b) {
                (JsonState::Start, b'[') => {
                    self.bump(b);
                    self.state = JsonState::Array;
                }
                (JsonState::Start, b'{') => self.state = JsonState::Lines,
                (JsonState::Start, _) => {
                    self.state = JsonState::Done;
                    return Ok(Some(Err(Problem::at(
                        &self.path,
                        self.line,
                        "is not JSON: expected '[' or '{'",
                    ))));
                }
                (JsonState::Array, b']') => {
                    self.bump(b);
                    self.state = JsonState::Done;
                    return Ok(None);
                }
                (JsonState::Array, b',') => self.bump(b),
                (JsonState::Array | JsonState::Lines, _) => {
                    let line = self.line;
                    if !self.take_value()? {
                        self.state = JsonState::Done;
                        return Ok(Some(Err(Problem::at(
                            &self.path,
                            line,
                            "the file ends inside the value that starts here",
                        ))));
                    }
                    let parsed = serde_json::from_slice::<serde_json::Value>(&self.buf);
                    return Ok(Some(match parsed {
                        Ok(serde_json::Value::Object(map)) => Ok((line, map)),
                        Ok(_) => Err(Problem::at(&self.path, line, "is not a JSON object")),
                        Err(e) => Err(Problem::at(
                            &self.path,
                            line + e.line().saturating_sub(1) as u64,
                            format!("is not valid JSON: {e}"),
                        )),
                    }));
                }
                (JsonState::Done, _) => return Ok(None),
            }
        }
    }
}

impl<R: BufRead> Iterator for JsonObjects<R> {
    type Item = Result<JsonObject, Problem>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.state == JsonState::Done {
            return None;
        }
        match self.step() {
            Ok(item) => item,
            Err(e) => {
                self.state = JsonState::Done;
                Some(Err(Problem::file(
                    &self.path,
                    format!("stopped reading: {e}"),
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn gzip_is_recognised_by_its_magic_bytes_not_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("movies.csv");
        let mut gz = flate2::write::GzEncoder::new(
            File::create(&path).unwrap(),
            flate2::Compression::fast(),
        );
        gz.write_all(b"\xEF\xBB\xBFtitle\nBrazil\n").unwrap();
        gz.finish().unwrap();
        let mut text = String::new();
        open(&path).unwrap().read_to_string(&mut text).unwrap();
        assert_eq!(text, "title\nBrazil\n");
    }

    #[test]
    fn a_byte_order_mark_is_dropped_and_short_files_survive() {
        let read = |bytes: &[u8]| {
            let mut s = String::new();
            strip_bom(bytes).unwrap().read_to_string(&mut s).unwrap();
            s
        };
        assert_eq!(read(b"\xEF\xBB\xBFa,b"), "a,b");
        assert_eq!(read(b"ab"), "ab");
        assert_eq!(read(b""), "");
    }

    #[test]
    fn csv_rows_name_the_line_they_start_on_even_after_multi_line_fields() {
        let data = "a,b\n1,\"two\nlines\"\n3,4\n5\n";
        let mut rows =
            CsvRows::from_reader(Path::new("t.csv"), data.as_bytes(), Dialect::CSV).unwrap();
        rows.allow_line_breaks_in([1]);
        let rows: Vec<_> = rows.collect();
        assert_eq!(rows[0].as_ref().unwrap().line, 2);
        assert_eq!(rows[1].as_ref().unwrap().line, 4);
        assert_eq!(
            rows[2].as_ref().unwrap_err().to_string(),
            "t.csv:5: has 1 fields where the header has 2"
        );
    }

    #[test]
    fn a_broken_quote_is_reported_on_the_line_it_opens() {
        let data = "a,b\n1,2\n3,\"oops\n5,6\n7,8\n";
        let rows: Vec<_> = CsvRows::from_reader(Path::new("t.csv"), data.as_bytes(), Dialect::CSV)
            .unwrap()
            .collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[1].as_ref().unwrap_err().to_string(),
            "t.csv:3: a quoted field runs on to line 5: is a closing quote missing?"
        );
    }

    #[test]
    fn json_objects_stream_from_arrays_and_from_lines() {
        let array = "[\n {\"a\": 1},\n {\"a\": \"x]}\"},\n 3,\n {\"a\": }\n]";
        let items: Vec<_> = JsonObjects::new(Path::new("m.json"), array.as_bytes()).collect();
        assert_eq!(items.len(), 4);
        assert_eq!(items[0].as_ref().unwrap().0, 2);
        assert_eq!(items[1].as_ref().unwrap().1["a"], "x]}");
        assert_eq!(
            items[2].as_ref().unwrap_err().to_string(),
            "m.json:4: is not a JSON object"
        );
        assert!(
            items[3]
                .as_ref()
                .unwrap_err()
                .to_string()
                .starts_with("m.json:5: is not valid JSON")
        );

        let lines = "{\"a\": 1}\n\n{\"a\": 2}\n";
        let items: Vec<_> = JsonObjects::new(Path::new("m.jsonl"), lines.as_bytes()).collect();
        let lines: Vec<u64> = items.iter().map(|i| i.as_ref().unwrap().0).collect();
        assert_eq!(lines, [1, 3]);

        let cut = "[{\"a\": 1}, {\"a\"";
        let items: Vec<_> = JsonObjects::new(Path::new("m.json"), cut.as_bytes()).collect();
        assert_eq!(items.len(), 2);
        assert!(items[1].is_err());
    }
}
