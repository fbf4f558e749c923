//! What a file's bytes say it is, whatever its name claims.

/// File types recognised from their leading bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Magic {
    Elf,
    MachO,
    Pe,
    /// A `#!` interpreter line.
    Script,
    Zip,
    Gzip,
    Tar,
    SevenZip,
    Rar,
    Bzip2,
    Xz,
    /// Python bytecode (`.pyc`).
    Pyc,
    JavaClass,
    Wasm,
    Png,
    Jpeg,
    Gif,
    Pdf,
    /// OLE compound document (legacy Office, MSI).
    Ole,
}

impl Magic {
    pub fn name(self) -> &'static str {
        match self {
            Magic::Elf => "an ELF executable",
            Magic::MachO => "a Mach-O executable",
            Magic::Pe => "a Windows PE executable",
            Magic::Script => "a script with a #! line",
            Magic::Zip => "a zip archive",
            Magic::Gzip => "gzip data",
            Magic::Tar => "a tar archive",
            Magic::SevenZip => "a 7-zip archive",
            Magic::Rar => "a rar archive",
            Magic::Bzip2 => "bzip2 data",
            Magic::Xz => "xz data",
            Magic::Pyc => "Python bytecode",
            Magic::JavaClass => "a Java class file",
            Magic::Wasm => "a WebAssembly module",
            Magic::Png => "a PNG image",
            Magic::Jpeg => "a JPEG image",
            Magic::Gif => "a GIF image",
            Magic::Pdf => "a PDF document",
            Magic::Ole => "an OLE compound document",
        }
    }

    pub fn is_native_executable(self) -> bool {
        matches!(self, Magic::Elf | Magic::MachO | Magic::Pe)
    }

    pub fn is_archive(self) -> bool {
        matches!(self, Magic::Zip | Magic::Gzip | Magic::Tar | Magic::SevenZip | Magic::Rar | Magic::Bzip2 | Magic::Xz)
    }
}

pub fn sniff(bytes: &[u8]) -> Option<Magic> {
    let starts = |m: &[u8]| bytes.starts_with(m);
    if starts(b"\x7fELF") {
        return Some(Magic::Elf);
    }
    if starts(&[0xFE, 0xED, 0xFA, 0xCE])
        || starts(&[0xFE, 0xED, 0xFA, 0xCF])
        || starts(&[0xCE, 0xFA, 0xED, 0xFE])
        || starts(&[0xCF, 0xFA, 0xED, 0xFE])
    {
        return Some(Magic::MachO);
    }
    if starts(&[0xCA, 0xFE, 0xBA, 0xBE]) {
        // Mach-O universal binaries and Java classes share this magic; a fat header's next word
        // is a small architecture count, a class file's is its (>= 45) major version.
        let next = bytes.get(4..8).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
        return Some(match next {
            Some(n) if n < 45 => Magic::MachO,
            _ => Magic::JavaClass,
        });
    }
    if starts(b"MZ") && is_pe(bytes) {
        return Some(Magic::Pe);
    }
    if starts(b"#!") {
        return Some(Magic::Script);
    }
    if starts(b"PK\x03\x04") || starts(b"PK\x05\x06") || starts(b"PK\x07\x08") {
        return Some(Magic::Zip);
    }
    if starts(&[0x1F, 0x8B]) {
        return Some(Magic::Gzip);
    }
    if bytes.get(257..262) == Some(b"ustar") {
        return Some(Magic::Tar);
    }
    if starts(b"7z\xBC\xAF\x27\x1C") {
        return Some(Magic::SevenZip);
    }
    if starts(b"Rar!\x1A\x07") {
        return Some(Magic::Rar);
    }
    if starts(b"BZh") && bytes.get(3).is_some_and(|b| (b'1'..=b'9').contains(b)) {
        return Some(Magic::Bzip2);
    }
    if starts(&[0xFD, b'7', b'z', b'X', b'Z', 0x00]) {
        return Some(Magic::Xz);
    }
    if bytes.len() >= 16 && bytes.get(2..4) == Some(b"\r\n") && is_pyc_magic(bytes) {
        return Some(Magic::Pyc);
    }
    if starts(b"\0asm") {
        return Some(Magic::Wasm);
    }
    if starts(b"\x89PNG\r\n\x1a\n") {
        return Some(Magic::Png);
    }
    if starts(&[0xFF, 0xD8, 0xFF]) {
        return Some(Magic::Jpeg);
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return Some(Magic::Gif);
    }
    if starts(b"%PDF-") {
        return Some(Magic::Pdf);
    }
    if starts(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Some(Magic::Ole);
    }
    None
}

fn is_pe(bytes: &[u8]) -> bool {
    // "MZ" alone starts plenty of text; a PE file points at its "PE\0\0" header at 0x3C.
    let Some(offset) = bytes.get(0x3C..0x40) else {
        return false;
    };
    let offset = u32::from_le_bytes([offset[0], offset[1], offset[2], offset[3]]) as usize;
    bytes.get(offset..offset.saturating_add(4)) == Some(b"PE\0\0")
}

fn is_pyc_magic(bytes: &[u8]) -> bool {
    // CPython bytecode magic: a little-endian version number followed by "\r\n".
    // Known ranges: 2.x 20121..62211 and 3.x 3000..3600+; all are < 0x0F00 or in those ranges.
    let word = u16::from_le_bytes([bytes[0], bytes[1]]);
    let known_version = (3000..=4000).contains(&word) || (20000..=62300).contains(&word);
    // Two characters and CRLF also start plain text ("Hi\r\n"). The 12 header bytes after the
    // magic (3.7+: flags 0, 1 or 3 as a u32; older: mtime and size) always hold a NUL; text
    // does not.
    known_version && bytes.get(4..16).is_some_and(|header| header.contains(&0))
}

/// File extensions whose content should be inert data, never a program.
const DATA_EXTENSIONS: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "bmp", "ico", "webp", "tif", "tiff", "pdf", "mp3", "mp4", "wav", "ogg", "webm", "mov",
    "avi", "ttf", "otf", "woff", "woff2", "txt", "md", "markdown", "json", "yaml", "yml", "csv", "tsv", "log", "svg",
    "html", "css", "xml", "toml", "ini",
];

const ARCHIVE_EXTENSIONS: &[&str] = &[
    "zip", "gz", "tgz", "tar", "7z", "rar", "bz2", "xz", "jar", "docx", "xlsx", "pptx", "odt", "ods", "odp", "apk",
    "whl", "egg", "nupkg", "vsix", "crx", "xpi", "epub",
];

pub fn extension(path: &str) -> Option<String> {
    let name = path.rsplit(['/', '!']).next().unwrap_or(path);
    let (stem, ext) = name.rsplit_once('.')?;
    if stem.is_empty() && !name.starts_with('.') {
        return None;
    }
    Some(ext.to_ascii_lowercase())
}

/// Describes how the content of `path` contradicts its extension, if it does.
pub fn extension_mismatch(path: &str, magic: Magic) -> Option<String> {
    let ext = extension(path)?;
    let data_ext = DATA_EXTENSIONS.contains(&ext.as_str());
    let archive_ext = ARCHIVE_EXTENSIONS.contains(&ext.as_str());
    let contradiction = match magic {
        Magic::Elf | Magic::MachO | Magic::Pe | Magic::Wasm | Magic::JavaClass | Magic::Pyc => data_ext || archive_ext,
        // A `#!` line is normal at the top of a script, odd at the top of an image or a PDF.
        Magic::Script => data_ext && !matches!(ext.as_str(), "txt" | "md" | "markdown" | "log" | "html" | "xml"),
        m if m.is_archive() => data_ext,
        _ => false,
    };
    contradiction.then(|| format!("the `.{ext}` file is {}", magic.name()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_executables_and_archives() {
        assert_eq!(sniff(b"\x7fELF\x02\x01"), Some(Magic::Elf));
        assert_eq!(sniff(b"#!/bin/sh\n"), Some(Magic::Script));
        assert_eq!(sniff(b"PK\x03\x04rest"), Some(Magic::Zip));
        assert_eq!(sniff(&[0xCF, 0xFA, 0xED, 0xFE, 7, 0, 0, 1]), Some(Magic::MachO));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some(Magic::Png));
        assert_eq!(sniff(b"plain text"), None);
    }

    #[test]
    fn python_bytecode_needs_its_binary_header_not_just_a_crlf() {
        // CPython 3.12 (magic 3531), flags 0, mtime, size.
        let mut pyc = vec![0xCB, 0x0D, b'\r', b'\n', 0, 0, 0, 0];
        pyc.extend_from_slice(&[0x10, 0x20, 0x30, 0x40, 0x99, 0x01, 0, 0]);
        assert_eq!(sniff(&pyc), Some(Magic::Pyc));
        // "Hi" read as a little-endian u16 is 26952, inside CPython 2's range.
        assert_eq!(sniff(b"Hi\r\n---\r\nname: hello\r\n---\r\n"), None);
        assert_eq!(sniff(b"ok\r\nthis is a longer line of text\r\n"), None);
    }

    #[test]
    fn elf_behind_png_is_a_mismatch_but_a_real_png_is_not() {
        assert!(extension_mismatch("assets/logo.png", Magic::Elf).is_some());
        assert!(extension_mismatch("assets/logo.png", Magic::Png).is_none());
        assert!(extension_mismatch("bin/tool", Magic::Elf).is_none());
        assert!(extension_mismatch("scripts/run.sh", Magic::Script).is_none());
        assert!(extension_mismatch("img/x.jpg", Magic::Script).is_some());
    }

    #[test]
    fn extension_ignores_archive_prefixes_and_dotfiles() {
        assert_eq!(extension("a.zip!/x/y.PNG").as_deref(), Some("png"));
        assert_eq!(extension(".env").as_deref(), Some("env"));
        assert_eq!(extension("Makefile"), None);
    }
}
