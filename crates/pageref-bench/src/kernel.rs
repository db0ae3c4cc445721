//! The running kernel's own page refcount: `pread(fd, buf, 64, 0)` loops on
//! a tmpfs file, as the series' benchmark and will-it-scale's `pread2`
//! (one shared file) and `pread1` (one file per thread).
//!
//! These workloads are scheme-independent: what they measure is whatever
//! refcount the running kernel has. Run the same command on a patched and an
//! unpatched kernel to compare them.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::harness::{Tally, Workload};

/// Size of every file created (one page).
pub const FILE_SIZE: usize = 4096;
/// Bytes read per operation, at offset 0.
pub const READ_SIZE: usize = 64;
/// The default directory: a tmpfs on every common Linux distribution.
pub const DEFAULT_DIR: &str = "/dev/shm";

/// Where the files go, checked before the sweep starts.
#[derive(Debug)]
pub struct FileSpot {
    /// The shared file's path (created by [`FileSpot::create`]).
    shared: PathBuf,
    /// The directory the per-thread files go into.
    dir: PathBuf,
    /// Stem for the per-thread files.
    stem: String,
    /// The filesystem type found, for the reports.
    pub fs_type: String,
    /// A warning to print (not a tmpfs), if any.
    pub warning: Option<String>,
}

impl FileSpot {
    /// Checks `file` (a directory to create files in, or the path of a file
    /// to create, which must not exist yet) or the default directory.
    ///
    /// Creates and removes a probe file, so that an unwritable place fails
    /// here, before any measurement. Returns a one-line message on error.
    pub fn check(file: Option<&Path>) -> Result<FileSpot, String> {
        let pid = std::process::id();
        let (dir, shared, stem) = match file {
            None => {
                let dir = PathBuf::from(DEFAULT_DIR);
                if !dir.is_dir() {
                    return Err(format!(
                        "{DEFAULT_DIR} does not exist or is not a directory; give a tmpfs file with --file PATH"
                    ));
                }
                let stem = format!("pageref-pread-{pid}");
                (dir.clone(), dir.join(&stem), stem)
            }
            Some(p) if p.is_dir() => {
                let stem = format!("pageref-pread-{pid}");
                (p.to_path_buf(), p.join(&stem), stem)
            }
            Some(p) => {
                if p.exists() || p.symlink_metadata().is_ok() {
                    return Err(format!(
                        "--file {}: already exists and is not a directory; give a new file's path or a directory",
                        p.display()
                    ));
                }
                let parent = match p.parent() {
                    Some(d) if d.as_os_str().is_empty() => PathBuf::from("."),
                    Some(d) => d.to_path_buf(),
                    None => PathBuf::from("."),
                };
                if !parent.is_dir() {
                    return Err(format!(
                        "--file {}: directory {} does not exist",
                        p.display(),
                        parent.display()
                    ));
                }
                let stem = p
                    .file_name()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| format!("pageref-pread-{pid}"));
                (parent, p.to_path_buf(), stem)
            }
        };
        // Probe: create, write a page, read it back, remove.
        let probe = dir.join(format!(".{stem}.probe"));
        let what = match file {
            Some(p) => format!("--file {}", p.display()),
            None => DEFAULT_DIR.to_string(),
        };
        create_page(&probe).map_err(|e| format!("{what}: cannot create a file there: {e}"))?;
        let _ = std::fs::remove_file(&probe);
        let fs_type = fs_type_of(&dir).unwrap_or_else(|| "unknown".into());
        let warning = (fs_type != "tmpfs").then(|| {
            format!(
                "warning: {} is on {fs_type}, not tmpfs: the series' benchmark uses tmpfs",
                dir.display()
            )
        });
        Ok(FileSpot {
            shared,
            dir,
            stem,
            fs_type,
            warning,
        })
    }

    /// Creates the files for one point: the shared file, or one per thread.
    ///
    /// Each file is unlinked as soon as it is open: the open descriptor
    /// keeps its inode and page cache alive, `pread` takes the same path
    /// through the kernel, and nothing is left behind even if the run is
    /// interrupted.
    pub fn create(&self, own: bool, threads: usize) -> Result<Vec<File>, String> {
        let paths: Vec<PathBuf> = if own {
            (0..threads)
                .map(|t| self.dir.join(format!("{}.{t}", self.stem)))
                .collect()
        } else {
            vec![self.shared.clone()]
        };
        let mut handles = Vec::new();
        for p in paths {
            let f = create_page(&p).map_err(|e| format!("{}: {e}", p.display()))?;
            std::fs::remove_file(&p).map_err(|e| format!("{}: {e}", p.display()))?;
            handles.push(f);
        }
        Ok(handles)
    }
}

/// Creates `path` (which must not exist) holding one page of data.
fn create_page(path: &Path) -> std::io::Result<File> {
    let mut f = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(path)?;
    let data: Vec<u8> = (0..FILE_SIZE).map(|i| (i % 251) as u8).collect();
    f.write_all(&data)?;
    f.flush()?;
    Ok(f)
}

/// The filesystem type of the mount holding `path`, from `/proc/self/mounts`.
pub fn fs_type_of(path: &Path) -> Option<String> {
    let path = path.canonicalize().ok()?;
    let mounts = std::fs::read_to_string("/proc/self/mounts").ok()?;
    mount_type(&mounts, &path)
}

/// The type of the longest mount point in `mounts` (the `/proc/mounts`
/// format, octal escapes included) that is a prefix of `path`.
pub fn mount_type(mounts: &str, path: &Path) -> Option<String> {
    let mut best: Option<(usize, String)> = None;
    for line in mounts.lines() {
        let mut it = line.split_whitespace();
        let (Some(_dev), Some(point), Some(ty)) = (it.next(), it.next(), it.next()) else {
            continue;
        };
        let point = unescape_mount(point);
        if path.starts_with(&point) {
            let len = point.len();
            // Later lines over-mount earlier ones at the same point.
            if best.as_ref().is_none_or(|(l, _)| len >= *l) {
                best = Some((len, ty.to_string()));
            }
        }
    }
    best.map(|(_, t)| t)
}

/// Decodes the `\ooo` octal escapes of `/proc/mounts` (space, tab, ...).
fn unescape_mount(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let v = u32::from(b[i + 1] - b'0') * 64
                + u32::from(b[i + 2] - b'0') * 8
                + u32::from(b[i + 3] - b'0');
            out.push(v as u8);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `pread(fd, buf, 64, 0)` in a loop: on one shared file (`files.len() ==
/// 1`) or on thread `tid`'s own file.
#[derive(Debug)]
pub struct KernelPread {
    files: Vec<File>,
}

impl KernelPread {
    /// Reads from `files`: one shared file, or one per thread.
    pub fn new(files: Vec<File>) -> Self {
        KernelPread { files }
    }
}

/// Per-thread state of [`KernelPread`].
#[derive(Debug)]
pub struct PreadLocal {
    file: usize,
    buf: [u8; READ_SIZE],
    short: u64,
}

impl Workload for KernelPread {
    type Local = PreadLocal;
    fn local(&self, tid: usize) -> PreadLocal {
        PreadLocal {
            file: tid % self.files.len(),
            buf: [0; READ_SIZE],
            short: 0,
        }
    }
    #[inline]
    fn step(&self, l: &mut PreadLocal) {
        // One pread(2) of 64 bytes at offset 0.
        let n = self.files[l.file].read_at(&mut l.buf, 0).unwrap_or(0);
        if n != READ_SIZE || l.buf[1] != 1 {
            l.short += 1;
        }
        std::hint::black_box(&l.buf);
    }
    fn finish(&self, l: PreadLocal, t: &mut Tally) {
        t.short_reads += l.short;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_table_lookup() {
        let m = "sysfs /sys sysfs rw 0 0\n\
                 overlay / overlay rw 0 0\n\
                 tmpfs /dev/shm tmpfs rw 0 0\n\
                 tmpfs /mnt/with\\040space tmpfs rw 0 0\n\
                 ext4 /dev/shmx ext4 rw 0 0\n";
        assert_eq!(
            mount_type(m, Path::new("/dev/shm/x")).as_deref(),
            Some("tmpfs")
        );
        assert_eq!(
            mount_type(m, Path::new("/dev/shmx")).as_deref(),
            Some("ext4")
        );
        assert_eq!(
            mount_type(m, Path::new("/home")).as_deref(),
            Some("overlay")
        );
        assert_eq!(
            mount_type(m, Path::new("/mnt/with space/f")).as_deref(),
            Some("tmpfs")
        );
    }

    /// Files are created, readable with 64-byte preads, and already gone
    /// from the directory; an existing file path and a missing directory are
    /// refused.
    #[test]
    fn files_lifecycle() {
        let dir = std::env::temp_dir();
        let spot = FileSpot::check(Some(&dir)).unwrap();
        let handles = spot.create(true, 3).unwrap();
        assert_eq!(handles.len(), 3);
        let paths: Vec<PathBuf> = (0..3)
            .map(|t| spot.dir.join(format!("{}.{t}", spot.stem)))
            .collect();
        assert!(paths.iter().all(|p| !p.exists()));
        let w = KernelPread::new(handles);
        let mut l = w.local(2);
        w.step(&mut l);
        let mut t = Tally::default();
        w.finish(l, &mut t);
        assert_eq!(t.short_reads, 0);

        let taken = dir.join(format!("pageref-test-taken-{}", std::process::id()));
        std::fs::write(&taken, b"x").unwrap();
        assert!(FileSpot::check(Some(&taken)).is_err());
        std::fs::remove_file(&taken).unwrap();
        assert!(FileSpot::check(Some(Path::new("/nonexistent-dir/f"))).is_err());
    }
}
