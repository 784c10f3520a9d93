//! Unified social credit code (统一社会信用代码, GB 32100-2015) check character.

const CHARSET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// `None` if the code is valid, else what is wrong with it.
pub fn check(code: &str) -> Option<String> {
    let chars: Vec<char> = code.trim().chars().collect();
    if chars.len() != 18 {
        let n = chars.len();
        return Some(crate::tr!(
            "统一社会信用代码 `{code}` 有 {n} 位，不是 18 位",
            "credit code `{code}` has {n} characters, not 18"
        ));
    }
    let mut sum = 0u32;
    for (i, c) in chars[..17].iter().enumerate() {
        match CHARSET.find(c.to_ascii_uppercase()) {
            Some(v) => sum += v as u32 * WEIGHTS[i],
            None => {
                let at = i + 1;
                return Some(crate::tr!(
                    "统一社会信用代码 `{code}` 第 {at} 位是 `{c}`，不允许（不含 I O S V Z）",
                    "credit code `{code}` has `{c}` at position {at}, not allowed (no I O S V Z)"
                ));
            }
        }
    }
    let want = CHARSET.as_bytes()[((31 - sum % 31) % 31) as usize] as char;
    let got = chars[17].to_ascii_uppercase();
    (got != want).then(|| {
        crate::tr!(
            "统一社会信用代码 `{code}` 校验位是 `{got}`，应为 `{want}`",
            "credit code `{code}` check character is `{got}`, expected `{want}`"
        )
    })
}

/// The check character that completes 17 characters (used by the sample generator).
pub fn check_char(first17: &str) -> Option<char> {
    let mut sum = 0u32;
    for (i, c) in first17.chars().enumerate().take(17) {
        sum += CHARSET.find(c)? as u32 * WEIGHTS[i];
    }
    Some(CHARSET.as_bytes()[((31 - sum % 31) % 31) as usize] as char)
}

#[cfg(test)]
mod tests {
    #[test]
    fn domain_examples() {
        assert_eq!(super::check("91310110666007217T"), None);
        assert_eq!(super::check("91310115591693856A"), None);
        assert!(super::check("91310115591693856B")
            .unwrap()
            .contains("应为 `A`"));
        assert!(super::check("9131011559169385").is_some());
        assert_eq!(super::check_char("91310110666007217"), Some('T'));
    }
}
