//! Inflates the bundled vulnerability database (committed gzip-compressed to keep the
//! repository small) into OUT_DIR, where `include_bytes!` embeds it uncompressed: the scanner
//! then reads it in place, with no copy on the heap.

use std::io::Read;

fn main() {
    let src = "assets/coldscan.db.gz";
    println!("cargo:rerun-if-changed={src}");
    let compressed = std::fs::read(src).expect("read the bundled vulnerability DB");
    let mut blob = Vec::new();
    flate2::read::GzDecoder::new(&compressed[..]).read_to_end(&mut blob).expect("inflate the bundled vulnerability DB");
    let out = std::path::Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("coldscan.db");
    std::fs::write(out, blob).expect("write the inflated DB");
}
