//! Ignore files: `.trivyignore`-style lists of vulnerability ids, each optionally ignored
//! until a date.

use alloc::string::String;
use alloc::vec::Vec;

/// A `.trivyignore`-style rule: a vulnerability id, ignored until an optional date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreRule {
    /// Vulnerability id (`CVE-2023-5363`).
    pub id: String,
    /// Last day the rule holds (`YYYY-MM-DD`, trivy's `exp:`); none: for ever.
    pub expires: Option<String>,
}

/// Parses an ignore file: one id per line, optionally followed by `exp:YYYY-MM-DD`; `#`
/// comments and blank lines skipped (the `.trivyignore` format).
pub fn parse_ignore_file(text: &str) -> Vec<IgnoreRule> {
    text.lines()
        .filter_map(|line| {
            let line = line.split('#').next().unwrap_or_default().trim();
            let mut words = line.split_whitespace();
            let id = words.next()?;
            let expires = words.find_map(|w| w.strip_prefix("exp:")).map(String::from);
            Some(IgnoreRule { id: String::from(id), expires })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignore_files_and_dates() {
        let rules = parse_ignore_file("# comment\nCVE-1\n\n  CVE-2 exp:2026-01-31 # until then\n");
        assert_eq!(
            rules,
            [
                IgnoreRule { id: "CVE-1".into(), expires: None },
                IgnoreRule { id: "CVE-2".into(), expires: Some("2026-01-31".into()) },
            ]
        );
    }
}
