//! The few pieces of Go's standard library whose exact behaviour decides which credential the
//! kubelet picks: `net/url.Parse` (host and path only), `net.SplitHostPort`, `path/filepath.Match`,
//! `encoding/base64` decoding (with its tolerance for newlines and its error offsets) and
//! `encoding/json`'s case-insensitive field names.
//!
//! Each function names the Go function it reproduces, as current Go (1.2x) behaves. Not
//! reproduced: `net/url`'s IPv6-zone (`%25`) handling and any validation of the address inside
//! `[…]`; `filepath.Match` stepping into the middle of a multi-byte character after a `*`.

/// The parts of a parsed URL the keyring reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GoUrl {
    /// `url.URL.Host`: percent-decoded, port included, brackets of an IPv6 literal kept.
    pub(crate) host: String,
    /// `url.URL.Path`: percent-decoded.
    pub(crate) path: String,
}

/// `url.Parse` for a string that starts with `http://` or `https://` (the only kind the keyring
/// builds): fragment and query dropped, user info checked and dropped, host and path decoded.
/// The error text is Go's (`parse "…": invalid port ":x" after host`).
pub(crate) fn parse_url(raw: &str) -> Result<GoUrl, String> {
    let wrap = |message: String| format!("parse {}: {message}", go_quote(raw));
    let (without_fragment, fragment) = raw.split_once('#').map_or((raw, None), |(a, b)| (a, Some(b)));
    if without_fragment.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err(wrap("net/url: invalid control character in URL".to_owned()));
    }
    let rest = without_fragment
        .strip_prefix("https:")
        .or_else(|| without_fragment.strip_prefix("http:"))
        .ok_or_else(|| wrap("missing protocol scheme".to_owned()))?;
    let rest = match rest.strip_suffix('?') {
        Some(stripped) if rest.matches('?').count() == 1 => stripped,
        _ => rest.split_once('?').map_or(rest, |(before, _)| before),
    };
    let after_slashes = rest.strip_prefix("//").unwrap_or(rest);
    let (authority, path) = after_slashes.find('/').map_or((after_slashes, ""), |i| after_slashes.split_at(i));
    let host = parse_authority(authority).map_err(wrap)?;
    let path = unescape(path, Mode::Path).map_err(wrap)?;
    if let Some(fragment) = fragment {
        unescape(fragment, Mode::Fragment).map_err(wrap)?;
    }
    Ok(GoUrl { host, path })
}

/// `url.parseAuthority`: the user info (before the last `@`) is validated and dropped.
fn parse_authority(authority: &str) -> Result<String, String> {
    let Some(at) = authority.rfind('@') else {
        return parse_host(authority);
    };
    let userinfo = &authority[..at];
    let valid = userinfo.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._:~!$&'()*+,;=%@".contains(&b));
    if !valid {
        return Err("net/url: invalid userinfo".to_owned());
    }
    unescape(userinfo, Mode::UserInfo)?;
    parse_host(&authority[at + 1..])
}

/// `url.parseHost`: the port after the last `:` (or after `]`) must be digits, then the host is
/// percent-decoded with host rules.
fn parse_host(host: &str) -> Result<String, String> {
    let colon_port = if host.starts_with('[') {
        let close = host.rfind(']').ok_or_else(|| "missing ']' in host".to_owned())?;
        &host[close + 1..]
    } else {
        host.rfind(':').map_or("", |i| &host[i..])
    };
    let port_ok = colon_port.is_empty()
        || colon_port.strip_prefix(':').is_some_and(|digits| digits.bytes().all(|b| b.is_ascii_digit()));
    if !port_ok {
        return Err(format!("invalid port {} after host", go_quote(colon_port)));
    }
    unescape(host, Mode::Host)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Host,
    Path,
    UserInfo,
    Fragment,
}

/// `url.unescape`: `%XX` decoding with Go's checks (bad escapes, and for hosts the characters a
/// host may not hold and escapes of bytes below 0x80 other than `%25`).
fn unescape(s: &str, mode: Mode) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let escape = &s[i..(i + 3).min(s.len())];
            let (Some(hi), Some(lo)) = (bytes.get(i + 1).and_then(|h| hex(*h)), bytes.get(i + 2).and_then(|l| hex(*l)))
            else {
                return Err(format!("invalid URL escape {}", go_quote(escape)));
            };
            if mode == Mode::Host && hi < 8 && escape != "%25" {
                return Err(format!("invalid URL escape {}", go_quote(escape)));
            }
            out.push(hi << 4 | lo);
            i += 3;
            continue;
        }
        if mode == Mode::Host && b < 0x80 && !host_byte_allowed(b) {
            return Err(format!("invalid character {} in host name", go_quote(&s[i..=i])));
        }
        out.push(b);
        i += 1;
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

fn hex(b: u8) -> Option<u8> {
    char::from(b).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

/// `url.shouldEscape(c, encodeHost) == false` for ASCII bytes.
fn host_byte_allowed(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_.~!$&'()*+,;=:[]<>\"".contains(&b)
}

/// Go's `%q` for the plain ASCII strings that reach error messages here.
fn go_quote(s: &str) -> String {
    format!("{s:?}")
}

/// `net.SplitHostPort`; `None` where Go returns an error (no port, too many colons, stray
/// brackets).
pub(crate) fn split_host_port(hostport: &str) -> Option<(&str, &str)> {
    let last_colon = hostport.rfind(':')?;
    let (host, inner_start, inner_end) = if hostport.starts_with('[') {
        let end = hostport.find(']')?;
        if end + 1 != last_colon {
            return None;
        }
        (&hostport[1..end], 1, end + 1)
    } else {
        let host = &hostport[..last_colon];
        if host.contains(':') {
            return None;
        }
        (host, 0, 0)
    };
    if hostport[inner_start..].contains('[') || hostport[inner_end..].contains(']') {
        return None;
    }
    Some((host, &hostport[last_colon + 1..]))
}

/// `path/filepath.Match` on Unix: `*`, `?`, `[…]` classes (with `^` negation and ranges) and
/// `\` escapes; `None` for a malformed pattern (`ErrBadPattern`).
pub(crate) fn filepath_match(pattern: &str, name: &str) -> Option<bool> {
    let mut pattern = pattern;
    let mut name = name;
    'pattern: while !pattern.is_empty() {
        let (star, chunk, rest) = scan_chunk(pattern);
        pattern = rest;
        if star && chunk.is_empty() {
            return Some(!name.contains('/'));
        }
        match match_chunk(chunk, name) {
            Ok(Some(t)) if t.is_empty() || !pattern.is_empty() => {
                name = t;
                continue;
            }
            Ok(_) => {}
            Err(()) => return None,
        }
        if star {
            for (i, c) in name.char_indices() {
                if c == '/' {
                    break;
                }
                match match_chunk(chunk, &name[i + c.len_utf8()..]) {
                    Ok(Some(t)) if !pattern.is_empty() || t.is_empty() => {
                        name = t;
                        continue 'pattern;
                    }
                    Ok(_) => {}
                    Err(()) => return None,
                }
            }
        }
        return validate_rest(pattern).then_some(false);
    }
    Some(name.is_empty())
}

/// Before answering "no match", Go checks that the rest of the pattern is well formed.
fn validate_rest(mut pattern: &str) -> bool {
    while !pattern.is_empty() {
        let (_, chunk, rest) = scan_chunk(pattern);
        pattern = rest;
        if match_chunk(chunk, "").is_err() {
            return false;
        }
    }
    true
}

/// `filepath.scanChunk`: leading stars, then everything up to the next star outside a class.
fn scan_chunk(pattern: &str) -> (bool, &str, &str) {
    let trimmed = pattern.trim_start_matches('*');
    let star = trimmed.len() != pattern.len();
    let bytes = trimmed.as_bytes();
    let mut in_range = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if i + 1 < bytes.len() => i += 1,
            b'[' => in_range = true,
            b']' => in_range = false,
            b'*' if !in_range => break,
            _ => {}
        }
        i += 1;
    }
    (star, &trimmed[..i], &trimmed[i..])
}

/// `filepath.matchChunk`: `Ok(Some(rest))` on a match, `Ok(None)` on a mismatch, `Err` on a
/// malformed chunk (checked to the end even after a mismatch, as Go does).
fn match_chunk<'a>(chunk: &str, s: &'a str) -> Result<Option<&'a str>, ()> {
    let mut chunk = chunk;
    let mut s = s;
    let mut failed = false;
    while let Some(c) = chunk.chars().next() {
        if !failed && s.is_empty() {
            failed = true;
        }
        match c {
            '[' => {
                let current = if failed { None } else { next_char(&mut s) };
                let (matched, rest) = match_class(&chunk[1..], current)?;
                chunk = rest;
                failed |= !matched;
            }
            '?' => {
                if !failed && next_char(&mut s) == Some('/') {
                    failed = true;
                }
                chunk = &chunk[1..];
            }
            _ => {
                let (literal, rest) = if c == '\\' {
                    let escaped = chunk[1..].chars().next().ok_or(())?;
                    (escaped, &chunk[1 + escaped.len_utf8()..])
                } else {
                    (c, &chunk[c.len_utf8()..])
                };
                if !failed && !s.starts_with(literal) {
                    failed = true;
                } else if !failed {
                    s = &s[literal.len_utf8()..];
                }
                chunk = rest;
            }
        }
    }
    Ok(if failed { None } else { Some(s) })
}

fn next_char(s: &mut &str) -> Option<char> {
    let c = s.chars().next()?;
    *s = &s[c.len_utf8()..];
    Some(c)
}

/// A character class after its `[`: whether `current` is in it, and the chunk after its `]`.
fn match_class(chunk: &str, current: Option<char>) -> Result<(bool, &str), ()> {
    let (negated, mut chunk) = chunk.strip_prefix('^').map_or((false, chunk), |rest| (true, rest));
    let mut matched = false;
    let mut ranges = 0;
    loop {
        if ranges > 0 && chunk.starts_with(']') {
            chunk = &chunk[1..];
            break;
        }
        let (lo, rest) = class_char(chunk)?;
        let (hi, rest) = match rest.strip_prefix('-') {
            Some(after_dash) => class_char(after_dash)?,
            None => (lo, rest),
        };
        chunk = rest;
        matched |= current.is_some_and(|c| lo <= c && c <= hi);
        ranges += 1;
    }
    Ok((matched != negated, chunk))
}

/// `filepath.getEsc`: one (possibly escaped) class character, which may not end the pattern.
fn class_char(chunk: &str) -> Result<(char, &str), ()> {
    let chunk = match chunk.chars().next() {
        None | Some('-' | ']') => return Err(()),
        Some('\\') => &chunk[1..],
        Some(_) => chunk,
    };
    let c = chunk.chars().next().ok_or(())?;
    let rest = &chunk[c.len_utf8()..];
    if rest.is_empty() {
        return Err(());
    }
    Ok((c, rest))
}

/// `base64.StdEncoding.DecodeString` (`padded`) or `base64.RawStdEncoding.DecodeString`: `\r`
/// and `\n` are skipped anywhere, trailing bits are ignored, and the error is the byte offset
/// Go's `CorruptInputError` reports.
pub(crate) fn decode_base64(input: &str, padded: bool) -> Result<Vec<u8>, usize> {
    let src = input.as_bytes();
    let mut out = Vec::with_capacity(src.len() / 4 * 3 + 3);
    let mut si = 0;
    while si < src.len() {
        let (next, quantum, error) = decode_quantum(src, si, padded);
        out.extend_from_slice(&quantum);
        if let Some(offset) = error {
            return Err(offset);
        }
        si = next;
    }
    Ok(out)
}

/// `Encoding.decodeQuantum`: up to four symbols into up to three bytes.
fn decode_quantum(src: &[u8], mut si: usize, padded: bool) -> (usize, Vec<u8>, Option<usize>) {
    let mut buf = [0u32; 4];
    let mut len = 4;
    let mut j = 0;
    let mut error = None;
    while j < 4 {
        let Some(&symbol) = src.get(si) else {
            if j == 0 {
                return (si, Vec::new(), None);
            }
            if j == 1 || padded {
                return (si, Vec::new(), Some(si - j));
            }
            len = j;
            break;
        };
        si += 1;
        if let Some(value) = base64_value(symbol) {
            buf[j] = value;
            j += 1;
            continue;
        }
        if symbol == b'\n' || symbol == b'\r' {
            continue;
        }
        if !padded || symbol != b'=' {
            return (si, Vec::new(), Some(si - 1));
        }
        match finish_padding(src, si, j) {
            Ok((next, trailing)) => {
                si = next;
                error = trailing;
            }
            Err(offset) => return (si, Vec::new(), Some(offset)),
        }
        len = j;
        break;
    }
    let value = buf[0] << 18 | buf[1] << 12 | buf[2] << 6 | buf[3];
    let bytes = value.to_be_bytes();
    (si, bytes[1..len].to_vec(), error)
}

/// After a `=` at symbol `j` of a quantum: checks the padding and reports trailing garbage.
fn finish_padding(src: &[u8], mut si: usize, j: usize) -> Result<(usize, Option<usize>), usize> {
    let skip_newlines = |mut i: usize| {
        while src.get(i).is_some_and(|b| *b == b'\n' || *b == b'\r') {
            i += 1;
        }
        i
    };
    match j {
        0 | 1 => return Err(si - 1),
        2 => {
            si = skip_newlines(si);
            if si == src.len() {
                return Err(src.len());
            }
            if src[si] != b'=' {
                return Err(si - 1);
            }
            si += 1;
        }
        _ => {}
    }
    si = skip_newlines(si);
    Ok((si, (si < src.len()).then_some(si)))
}

fn base64_value(symbol: u8) -> Option<u32> {
    let value = match symbol {
        b'A'..=b'Z' => symbol - b'A',
        b'a'..=b'z' => symbol - b'a' + 26,
        b'0'..=b'9' => symbol - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    };
    Some(u32::from(value))
}

/// `encoding/json`'s field-name matching: equal under Unicode simple case folding, which for
/// the ASCII names here also admits `ſ` for `s` and the Kelvin sign for `k`.
pub(crate) fn json_field_eq(key: &str, field: &str) -> bool {
    let fold = |c: char| match c {
        'ſ' => 's',
        '\u{212A}' => 'k',
        c => c.to_ascii_lowercase(),
    };
    key.chars().map(fold).eq(field.chars().map(fold))
}

/// The JSON type name Go's `UnmarshalTypeError` reports for a value.
pub(crate) fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "bool",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::{decode_base64, filepath_match, json_field_eq, parse_url, split_host_port};

    #[test]
    fn url_parse_like_go() {
        let url = parse_url("https://user:pw@Registry.io:5000/v2/a%2Fb?x=1#frag").unwrap();
        assert_eq!((url.host.as_str(), url.path.as_str()), ("Registry.io:5000", "/v2/a/b"));
        assert_eq!(parse_url("https://[::1]:5000/x").unwrap().host, "[::1]:5000");
        assert_eq!(parse_url("https://host:/x").unwrap().host, "host:");
        assert_eq!(parse_url("https://").unwrap(), super::GoUrl { host: String::new(), path: String::new() });
        let bad_port = parse_url("https://host:abc/x").unwrap_err();
        assert_eq!(bad_port, r#"parse "https://host:abc/x": invalid port ":abc" after host"#);
        assert!(parse_url("https://ho st").unwrap_err().contains(r#"invalid character " " in host name"#));
        assert!(parse_url("https://host/%zz").unwrap_err().contains(r#"invalid URL escape "%zz""#));
        assert!(parse_url("https://a\u{7f}b").is_err());
        assert!(parse_url("https://[::1/x").unwrap_err().contains("missing ']' in host"));
    }

    #[test]
    fn split_host_port_like_go() {
        assert_eq!(split_host_port("registry.io:8080"), Some(("registry.io", "8080")));
        assert_eq!(split_host_port("[::1]:5000"), Some(("::1", "5000")));
        assert_eq!(split_host_port("registry.io:"), Some(("registry.io", "")));
        assert_eq!(split_host_port("registry.io"), None);
        assert_eq!(split_host_port("a:b:c"), None);
        assert_eq!(split_host_port("[::1]"), None);
    }

    #[test]
    fn filepath_match_like_go() {
        let cases = [
            ("*", "abc", Some(true)),
            ("*c", "abc", Some(true)),
            ("a*", "a", Some(true)),
            ("a*b*c*d", "axbxcxd", Some(true)),
            ("*-good", "x-good", Some(true)),
            ("*-good", "x-bad", Some(false)),
            ("ab[c]", "abc", Some(true)),
            ("ab[b-d]", "abc", Some(true)),
            ("ab[^c]", "abc", Some(false)),
            ("ab[^e-g]", "abc", Some(true)),
            ("a?c", "abc", Some(true)),
            ("a\\*b", "a*b", Some(true)),
            ("a\\*b", "ab", Some(false)),
            ("[", "a", None),
            ("[^", "a", None),
            ("[]a]", "]", None),
            ("a[", "x", None),
            ("*x", "xxx", Some(true)),
            ("", "", Some(true)),
            ("", "a", Some(false)),
        ];
        for (pattern, name, expected) in cases {
            assert_eq!(filepath_match(pattern, name), expected, "{pattern} {name}");
        }
    }

    #[test]
    fn base64_like_go() {
        assert_eq!(decode_base64("dXNlcjpwYXNz", true).unwrap(), b"user:pass");
        assert_eq!(decode_base64("dXNlcjpw", false).unwrap(), b"user:p");
        assert_eq!(decode_base64("dXNl\ncjpw\r\n", true).unwrap(), b"user:p");
        assert_eq!(decode_base64("YQ==", true).unwrap(), b"a");
        assert_eq!(decode_base64("YR==", true).unwrap(), b"a");
        assert_eq!(decode_base64("YQ", false).unwrap(), b"a");
        assert_eq!(decode_base64("YQ", true), Err(0));
        assert_eq!(decode_base64("YQ=", true), Err(3));
        assert_eq!(decode_base64("Y", false), Err(0));
        assert_eq!(decode_base64("not base64!", true), Err(3));
        assert_eq!(decode_base64("YQ==YQ==", true), Err(4));
        assert_eq!(decode_base64("YQ==", false), Err(2));
    }

    #[test]
    fn json_names_fold_like_go() {
        assert!(json_field_eq("Username", "username"));
        assert!(json_field_eq("USERNAME", "username"));
        assert!(json_field_eq("uſername", "username"));
        assert!(!json_field_eq("user_name", "username"));
    }
}
