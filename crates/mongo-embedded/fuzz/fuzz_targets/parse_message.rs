//! Feeds arbitrary bytes to the wire-message and BSON parsers.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = mongo_embedded::fuzz_parse(data);
    let _ = mongo_embedded::fuzz_check_bson(data);
});
