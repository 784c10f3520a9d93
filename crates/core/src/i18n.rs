//! The language riskmap speaks: Chinese by default, English with `--lang en`, an English
//! locale (`LANG=en_US.UTF-8`) or `RISKMAP_LANG=en`.
//!
//! The catalogue is the pairs themselves: every user-facing sentence is written once as
//! `tr!("中文 {x}", "English {x}")` where it is said, so the two cannot drift apart by
//! being kept in different files, and a test (`tests/messages.rs`) reads every pair in
//! the sources: the Chinese side is Chinese, both sides name the same placeholders, and
//! the failing cases print no English sentence in Chinese mode. The language is process
//! wide (one user, one run); the CLI sets it once before anything is said.
//!
//! Not translated: names from the data (files, columns, values), machine codes
//! (`unparseable_number`), and messages a library writes inside a quoted detail.

use std::sync::atomic::{AtomicU8, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

static LANG: AtomicU8 = AtomicU8::new(0);

/// The language in use.
pub fn lang() -> Lang {
    match LANG.load(Ordering::Relaxed) {
        1 => Lang::En,
        _ => Lang::Zh,
    }
}

pub fn set_lang(l: Lang) {
    LANG.store(
        match l {
            Lang::Zh => 0,
            Lang::En => 1,
        },
        Ordering::Relaxed,
    );
}

impl Lang {
    /// `zh`, `zh-CN`, `zh_CN.UTF-8`, `cn`, `中文` → Chinese; `en`, `en_US.UTF-8`,
    /// `english` → English.
    pub fn parse(s: &str) -> Option<Lang> {
        let l = s.trim().to_ascii_lowercase();
        if l.starts_with("zh") || l == "cn" || l == "chinese" || s.trim() == "中文" {
            Some(Lang::Zh)
        } else if l.starts_with("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// From the command line (`--lang X` / `--lang=X`), else `RISKMAP_LANG`, else the
    /// locale (`LC_ALL`, `LC_MESSAGES`, `LANG`: an `en…` locale means English), else
    /// Chinese. `C`/`POSIX` locales (servers, containers) say nothing about the user and
    /// keep Chinese.
    pub fn detect<I: IntoIterator<Item = S>, S: AsRef<std::ffi::OsStr>>(args: I) -> Lang {
        let mut it = args.into_iter();
        while let Some(a) = it.next() {
            let a = a.as_ref().to_string_lossy().to_string();
            if a == "--" {
                break;
            }
            if a == "--lang" {
                if let Some(v) = it
                    .next()
                    .and_then(|v| Lang::parse(&v.as_ref().to_string_lossy()))
                {
                    return v;
                }
            } else if let Some(v) = a.strip_prefix("--lang=").and_then(Lang::parse) {
                return v;
            }
        }
        if let Some(l) = std::env::var("RISKMAP_LANG")
            .ok()
            .as_deref()
            .and_then(Lang::parse)
        {
            return l;
        }
        for k in ["LC_ALL", "LC_MESSAGES", "LANG"] {
            if let Ok(v) = std::env::var(k) {
                if v.is_empty() {
                    continue;
                }
                return Lang::parse(&v).unwrap_or(Lang::Zh);
            }
        }
        Lang::Zh
    }
}

/// The sentence in the language in use, formatted (`{name}` captures as in `format!`).
#[macro_export]
macro_rules! tr {
    ($zh:literal, $en:literal $(,)?) => {
        match $crate::i18n::lang() {
            $crate::i18n::Lang::Zh => format!($zh),
            $crate::i18n::Lang::En => format!($en),
        }
    };
    ($zh:literal, $en:literal, $($arg:tt)+) => {
        match $crate::i18n::lang() {
            $crate::i18n::Lang::Zh => format!($zh, $($arg)+),
            $crate::i18n::Lang::En => format!($en, $($arg)+),
        }
    };
}

/// An I/O error in the language in use: the common kinds in words, others with the
/// system's own text after them.
pub fn io_error(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::NotFound => tr!("文件或目录不存在", "no such file or directory"),
        K::PermissionDenied => tr!("没有权限", "permission denied"),
        K::AlreadyExists => tr!("已存在", "already exists"),
        K::IsADirectory => tr!("这是一个目录，不是文件", "is a directory, not a file"),
        K::NotADirectory => tr!(
            "路径中有一段不是目录",
            "a part of the path is not a directory"
        ),
        K::StorageFull => tr!("磁盘已满", "no space left on the disk"),
        K::ReadOnlyFilesystem => tr!("文件系统只读", "read-only file system"),
        K::AddrInUse => tr!(
            "地址已被占用（端口被其他程序使用）",
            "address in use (another program has the port)"
        ),
        K::AddrNotAvailable => tr!("本机没有这个地址", "address not available on this machine"),
        K::InvalidData => tr!("数据无效：{e}", "invalid data: {e}"),
        _ => tr!("系统错误：{e}", "system error: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_detect() {
        assert_eq!(Lang::parse("en_US.UTF-8"), Some(Lang::En));
        assert_eq!(Lang::parse("zh_CN.UTF-8"), Some(Lang::Zh));
        assert_eq!(Lang::parse("C.UTF-8"), None);
        assert_eq!(Lang::detect(["riskmap", "build", "--lang", "en"]), Lang::En);
        assert_eq!(Lang::detect(["riskmap", "--lang=zh", "build"]), Lang::Zh);
    }
}
