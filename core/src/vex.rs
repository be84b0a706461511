//! VEX documents — OpenVEX and CycloneDX VEX — read into [`VexStatement`]s for the scan
//! settings: `not_affected` (CycloneDX: `not_affected`, `false_positive`) and `fixed`
//! (`resolved`) statements suppress findings; the justification is kept in the report.
//! Products are purls (or plain package names); a statement without products covers all.
//! Reference: the OpenVEX specification (v0.2.0) and CycloneDX 1.5's `vulnerabilities[].analysis`.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde_json::Value;

/// What a VEX document says of a vulnerability in a product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VexStatus {
    /// The product is not affected: the finding is suppressed.
    NotAffected,
    /// The product is fixed: the finding is suppressed.
    Fixed,
    /// Affected or under investigation: the finding stays.
    Other,
}

/// One VEX statement (OpenVEX or CycloneDX VEX, read by the front end).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VexStatement {
    /// Vulnerability id.
    pub id: String,
    /// Package names (or purls, whose name part is compared) it is about; empty: every product.
    pub products: Vec<String>,
    /// Status.
    pub status: VexStatus,
    /// The justification or impact statement, kept in the report.
    pub justification: Option<String>,
}

impl VexStatement {
    /// Whether the statement is about `package` (by name or purl).
    pub fn covers(&self, package: &str) -> bool {
        self.products.is_empty() || self.products.iter().any(|p| purl_name(p) == package)
    }
}

/// The package name of a purl (`pkg:rpm/rocky/openssl@3.0.7?arch=x86_64` → `openssl`), or the
/// text itself when it is a plain name.
pub fn purl_name(product: &str) -> &str {
    let Some(rest) = product.strip_prefix("pkg:") else { return product };
    let path = rest.split(['@', '?', '#']).next().unwrap_or(rest);
    path.rsplit('/').next().unwrap_or(path)
}

fn text(v: &Value) -> Option<String> {
    v.as_str().map(String::from)
}

fn openvex(doc: &Value) -> Vec<VexStatement> {
    let statements = doc.get("statements").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    statements
        .iter()
        .filter_map(|s| {
            // v0.2 names the vulnerability as an object, v0.0.x as a string.
            let vuln = s.get("vulnerability")?;
            let id = vuln.get("name").and_then(text).or_else(|| text(vuln))?;
            let products = s
                .get("products")
                .and_then(Value::as_array)
                .map(|ps| ps.iter().filter_map(|p| p.get("@id").and_then(text).or_else(|| text(p))).collect())
                .unwrap_or_default();
            let status = match s.get("status").and_then(Value::as_str) {
                Some("not_affected") => VexStatus::NotAffected,
                Some("fixed") => VexStatus::Fixed,
                _ => VexStatus::Other,
            };
            let justification =
                s.get("justification").and_then(text).or_else(|| s.get("impact_statement").and_then(text));
            Some(VexStatement { id, products, status, justification })
        })
        .collect()
}

fn cyclonedx(doc: &Value) -> Vec<VexStatement> {
    let vulns = doc.get("vulnerabilities").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    vulns
        .iter()
        .filter_map(|v| {
            let id = v.get("id").and_then(text)?;
            let analysis = v.get("analysis");
            let status = match analysis.and_then(|a| a.get("state")).and_then(Value::as_str) {
                Some("not_affected" | "false_positive") => VexStatus::NotAffected,
                Some("resolved" | "resolved_with_pedigree") => VexStatus::Fixed,
                _ => VexStatus::Other,
            };
            let justification = analysis.and_then(|a| {
                let j = a.get("justification").and_then(text);
                let d = a.get("detail").and_then(text);
                match (j, d) {
                    (Some(j), Some(d)) => Some(alloc::format!("{j}: {d}")),
                    (j, d) => j.or(d),
                }
            });
            let products = v
                .get("affects")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|t| t.get("ref").and_then(text)).collect())
                .unwrap_or_default();
            Some(VexStatement { id, products, status, justification })
        })
        .collect()
}

/// Reads an OpenVEX or CycloneDX VEX document.
pub fn parse(json: &str) -> Result<Vec<VexStatement>, String> {
    let doc: Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
    if doc.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX") {
        return Ok(cyclonedx(&doc));
    }
    if doc.get("statements").is_some() {
        return Ok(openvex(&doc));
    }
    Err(String::from("neither an OpenVEX document (statements) nor CycloneDX VEX (bomFormat)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls_name_their_package() {
        assert_eq!(purl_name("pkg:rpm/rocky/openssl@3.0.7-16.el9?arch=x86_64"), "openssl");
        assert_eq!(purl_name("pkg:apk/alpine/busybox"), "busybox");
        assert_eq!(purl_name("openssl"), "openssl");
    }

    #[test]
    fn openvex_and_cyclonedx() {
        let open = r#"{"@context":"https://openvex.dev/ns/v0.2.0","statements":[
            {"vulnerability":{"name":"CVE-1"},"products":[{"@id":"pkg:apk/alpine/busybox@1.36.0-r9"}],
             "status":"not_affected","justification":"vulnerable_code_not_in_execute_path"},
            {"vulnerability":"CVE-2","status":"under_investigation"}]}"#;
        let s = parse(open).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!((s[0].id.as_str(), s[0].status), ("CVE-1", VexStatus::NotAffected));
        assert_eq!(s[0].products, ["pkg:apk/alpine/busybox@1.36.0-r9"]);
        assert_eq!(s[1].status, VexStatus::Other);
        let cdx = r#"{"bomFormat":"CycloneDX","specVersion":"1.5","vulnerabilities":[
            {"id":"CVE-3","analysis":{"state":"resolved","detail":"patched"},"affects":[{"ref":"pkg:rpm/rocky/openssl"}]}]}"#;
        let s = parse(cdx).unwrap();
        assert_eq!((s[0].status, s[0].justification.as_deref()), (VexStatus::Fixed, Some("patched")));
        assert!(parse("{}").is_err());
        assert!(parse("not json").is_err());
    }
}
