//! Attachments that are ZIP archives: senders zip some files (and label them anything, even
//! `text/plain`), so an archive is recognised by its magic bytes and unpacked within limits —
//! entries, each entry's size, the total, the expansion ratio — counting the bytes actually
//! inflated, never trusting the sizes the archive declares.

use std::io::{self, Read, Seek};

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

/// Where unpacked entries go: one `begin`, `write`s and `finish` per entry.
pub trait EntrySink {
    fn begin(&mut self, name: &str) -> io::Result<()>;
    fn write(&mut self, chunk: &[u8]) -> io::Result<()>;
    fn finish(&mut self) -> io::Result<String>;
    fn abort(&mut self) {}
}

/// Unpacks the files of an archive (directories skipped) into `sink`.
pub fn unzip<R: Read + Seek>(
    archive: R,
    limits: &ZipLimits,
    sink: &mut dyn EntrySink,
) -> Result<Vec<ZipEntry>, UnzipError> {
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
        if let Err(e) = result {
            sink.abort();
            return Err(e);
        }
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
