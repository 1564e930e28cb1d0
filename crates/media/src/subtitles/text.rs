//! Subtitle files in the wild are UTF-8, UTF-16 (Windows tools) or Windows-1252 (older Western
//! European files); this turns any of them into a `String` rather than rejecting accents.

/// Decodes subtitle bytes: a UTF-16 or UTF-8 byte-order mark decides; otherwise UTF-8 if the bytes
/// are valid UTF-8, else Windows-1252 (which every byte sequence is).
pub fn decode_text(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return utf16(rest, u16::from_le_bytes);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return utf16(rest, u16::from_be_bytes);
    }
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => bytes.iter().map(|&b| windows_1252(b)).collect(),
    }
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> String {
    let units = bytes.chunks_exact(2).map(|c| unit([c[0], c[1]]));
    char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// Windows-1252 is Latin-1 except 0x80..=0x9F, where it has typographic characters (curly quotes,
/// dashes, the euro sign) that subtitle editors used a lot.
fn windows_1252(b: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž',
        '\u{8f}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}',
        'ž', 'Ÿ',
    ];
    match b {
        0x80..=0x9F => HIGH[usize::from(b - 0x80)],
        _ => char::from(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_passes_through_without_its_bom() {
        assert_eq!(decode_text("\u{feff}Olá".as_bytes()), "Olá");
        assert_eq!(decode_text("Olá".as_bytes()), "Olá");
    }

    #[test]
    fn windows_1252_is_the_fallback_for_invalid_utf8() {
        // "Café – “ok”" as Windows-1252.
        let bytes = [
            b'C', b'a', b'f', 0xE9, b' ', 0x96, b' ', 0x93, b'o', b'k', 0x94,
        ];
        assert_eq!(decode_text(&bytes), "Café – “ok”");
    }

    #[test]
    fn utf16_with_a_bom_is_decoded_in_either_byte_order() {
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("Hé".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain("Hé".encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert_eq!(decode_text(&le), "Hé");
        assert_eq!(decode_text(&be), "Hé");
    }
}
