//! Attachments that are ZIP archives: senders zip some files (and label them anything, even
//! `text/plain`), so an archive is recognised by its magic bytes and unpacked within limits —
//! entries (counted from the archive's end record before its directory is read), each entry's
//! size and the total (counting the bytes actually inflated, never the sizes the archive
//! declares), and the expansion ratio (against the compressed size the entry declares, which
//! bounds what is read of it).

use std::io::{self, Read, Seek, SeekFrom};

use crate::error::UnzipError;

/// Whether bytes start like a ZIP archive (a local file header, or the end record of an empty
/// archive).
pub fn is_zip(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06")
}

#[derive(Debug, Clone)]
pub struct ZipLimits {
    pub max_entries: usize,
    pub max_entry: u64,
    pub max_total: u64,
    /// Inflated size over compressed size, per entry.
    pub max_ratio: u64,
}

impl Default for ZipLimits {
    fn default() -> Self {
        ZipLimits {
            max_entries: 200,
            max_entry: 256 * 1024 * 1024,
            max_total: 512 * 1024 * 1024,
            max_ratio: 200,
        }
    }
}

/// One file unpacked from an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZipEntry {
    /// The entry's file name, without any directory (so no path can climb out).
    pub name: String,
    /// The name as the archive gave it.
    pub path: String,
    pub size: u64,
    /// What the sink answered for the bytes.
    pub stored: String,
}

/// Where unpacked entries go: one `begin`, `write`s and `finish` per entry; `abort` once when
/// the archive is refused half-way (forget every entry of it).
pub trait EntrySink {
    fn begin(&mut self, name: &str) -> io::Result<()>;
    fn write(&mut self, chunk: &[u8]) -> io::Result<()>;
    fn finish(&mut self) -> io::Result<String>;
    fn abort(&mut self) {}
}

/// Unpacks the files of an archive (directories skipped) into `sink`. When the archive turns
/// out bad half-way, the sink is told (`abort`) to forget what it kept of it.
pub fn unzip<R: Read + Seek>(
    archive: R,
    limits: &ZipLimits,
    sink: &mut dyn EntrySink,
) -> Result<Vec<ZipEntry>, UnzipError> {
    let result = unpack(archive, limits, sink);
    if result.is_err() {
        sink.abort();
    }
    result
}

fn unpack<R: Read + Seek>(
    archive: R,
    limits: &ZipLimits,
    sink: &mut dyn EntrySink,
) -> Result<Vec<ZipEntry>, UnzipError> {
    let mut archive = archive;
    // The directory's size is known from the end record: refuse a huge one before reading it.
    let declared = declared_entries(&mut archive)
        .map_err(|e| UnzipError::NotZip(format!("its end record cannot be read: {e}")))?;
    if declared.is_none_or(|n| n > limits.max_entries as u64) {
        return match declared {
            None => Err(UnzipError::NotZip("it has no end record".into())),
            Some(_) => Err(UnzipError::TooManyEntries(limits.max_entries)),
        };
    }
    archive
        .seek(SeekFrom::Start(0))
        .map_err(|e| UnzipError::NotZip(e.to_string()))?;
    let mut zip = zip::ZipArchive::new(archive).map_err(|e| UnzipError::NotZip(e.to_string()))?;
    if zip.len() > limits.max_entries {
        return Err(UnzipError::TooManyEntries(limits.max_entries));
    }
    let mut entries = Vec::new();
    let mut total = 0u64;
    let mut chunk = vec![0u8; 64 * 1024];
    for i in 0..zip.len() {
        let mut file = zip
            .by_index(i)
            .map_err(|e| UnzipError::NotZip(e.to_string()))?;
        if file.is_dir() {
            continue;
        }
        let path = file
            .name()
            .map_err(|e| UnzipError::NotZip(e.to_string()))?
            .into_owned();
        let name = path
            .rsplit(['/', '\\'])
            .find(|p| !p.is_empty() && *p != "." && *p != "..")
            .unwrap_or("file")
            .to_string();
        if file.encrypted() {
            return Err(UnzipError::Encrypted(path));
        }
        let compressed = file.compressed_size().max(1);
        sink.begin(&name).map_err(UnzipError::Sink)?;
        let mut size = 0u64;
        let result = loop {
            let n = match file.read(&mut chunk) {
                Ok(0) => break Ok(()),
                Ok(n) => n,
                Err(e) => break Err(UnzipError::NotZip(e.to_string())),
            };
            size += n as u64;
            total += n as u64;
            if size > limits.max_entry {
                break Err(UnzipError::EntryTooLarge {
                    name: path.clone(),
                    max: limits.max_entry,
                });
            }
            if total > limits.max_total {
                break Err(UnzipError::TotalTooLarge(limits.max_total));
            }
            // Small files may compress well; the ratio counts once an entry is past 1 MiB.
            if size > 1024 * 1024 && size / compressed > limits.max_ratio {
                break Err(UnzipError::Ratio {
                    name: path.clone(),
                    ratio: limits.max_ratio,
                });
            }
            if let Err(e) = sink.write(&chunk[..n]) {
                break Err(UnzipError::Sink(e));
            }
        };
        result?;
        let stored = sink.finish().map_err(UnzipError::Sink)?;
        entries.push(ZipEntry {
            name,
            path,
            size,
            stored,
        });
    }
    Ok(entries)
}

/// The number of entries the archive's end record declares (the ZIP64 one when the classic
/// record says so); `None` when there is no end record.
fn declared_entries<R: Read + Seek>(r: &mut R) -> io::Result<Option<u64>> {
    let len = r.seek(SeekFrom::End(0))?;
    let tail_len = len.min(22 + 65_535);
    r.seek(SeekFrom::Start(len - tail_len))?;
    let mut tail = vec![0u8; tail_len as usize];
    r.read_exact(&mut tail)?;
    let Some(at) = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| tail[i..].starts_with(b"PK\x05\x06"))
    else {
        return Ok(None);
    };
    let entries = u16::from_le_bytes([tail[at + 10], tail[at + 11]]);
    if entries != 0xFFFF {
        return Ok(Some(u64::from(entries)));
    }
    // ZIP64: the locator sits just before the classic record and points at the ZIP64 one.
    if at < 20 || !tail[at - 20..].starts_with(b"PK\x06\x07") {
        return Ok(Some(u64::from(entries)));
    }
    let mut offset = [0u8; 8];
    offset.copy_from_slice(&tail[at - 12..at - 4]);
    let offset = u64::from_le_bytes(offset);
    if offset > len.saturating_sub(56) {
        return Ok(None);
    }
    r.seek(SeekFrom::Start(offset))?;
    let mut record = [0u8; 56];
    r.read_exact(&mut record)?;
    if !record.starts_with(b"PK\x06\x06") {
        return Ok(None);
    }
    let mut n = [0u8; 8];
    n.copy_from_slice(&record[32..40]);
    Ok(Some(u64::from_le_bytes(n)))
}
