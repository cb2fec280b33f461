//! RFC 2047 encoded words (`=?UTF-8?B?…?=`) for a display name or subject of any length and script: each word at most
//! 75 characters and holding whole characters only, so a header stays within the line limits once folded.

use base64::Engine;

/// `text` as encoded words joined by `separator`: `" "` where one logical line may be long (aerc's `from`), `"\r\n "`
/// in a message header, which folds it so that no line passes 78 characters (RFC 5322 §2.1.1).
pub fn encoded_words(text: &str, separator: &str) -> String {
    const MAX_RAW_BYTES: usize = 45; // 45 bytes → 60 base64 characters + 12 for "=?UTF-8?B?" and "?=" = 72
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in text.chars() {
        if chunk.len() + c.len_utf8() > MAX_RAW_BYTES {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(chunk);
    }
    words.iter().map(|w| format!("=?UTF-8?B?{}?=", base64::engine::general_purpose::STANDARD.encode(w))).collect::<Vec<_>>().join(separator)
}
