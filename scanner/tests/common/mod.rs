//! Archive builders shared by the scanner's integration tests.

use std::io::Write;

/// A zip of `files`, in the given order.
pub fn zip_of(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for (path, content) in files {
        writer.start_file(path.as_str(), options).expect("zip entry");
        writer.write_all(content).expect("zip write");
    }
    writer.finish().expect("zip finish").into_inner()
}

/// A gzip-compressed tar of `files`, in the given order (regular files, mode 0644).
pub fn tar_gz_of(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut builder = tar::Builder::new(gz);
    for (path, content) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, path, content.as_slice()).expect("tar entry");
    }
    builder.into_inner().expect("tar finish").finish().expect("gzip finish")
}
