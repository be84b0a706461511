//! The advisory files as they are on disk, typed (rustsec's "raw" twins): one struct tree per
//! vuln-list family, OSV and NVD, holding only the fields coldscan reads. A field a family
//! cannot do without is required, so a file without it — or a schema change that renames
//! it — is reported as malformed instead of silently yielding no advisories. Optional fields
//! accept `null` as absent.

use serde::Deserialize;
use std::collections::BTreeMap;

/// `alpine/<release>/<repo>/<package>.json` (Alpine secdb, one package).
#[derive(Debug, Deserialize)]
pub struct AlpinePackage {
    pub name: String,
    #[serde(default)]
    pub distroversion: Option<String>,
    /// Fixed version → ids (`CVE-… GHSA-…` words, `(+ regression fix)` notes).
    #[serde(default)]
    pub secfixes: Option<BTreeMap<String, Option<Vec<String>>>>,
}

/// A binary package of an RPM-based erratum (Amazon, Rocky, Alma).
#[derive(Debug, Deserialize)]
pub struct RpmPackage {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub epoch: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub release: Option<String>,
    #[serde(default)]
    pub arch: Option<String>,
}

impl RpmPackage {
    /// `[epoch:]version-release` with a zero epoch left out.
    pub fn evr(&self) -> Option<String> {
        let (v, r) = (self.version.as_deref()?, self.release.as_deref()?);
        let epoch = self.epoch.as_deref().filter(|e| !e.is_empty() && *e != "0");
        Some(match epoch {
            Some(e) => format!("{e}:{v}-{r}"),
            None => format!("{v}-{r}"),
        })
    }
}

/// `amazon/<release>/<ALAS>.json`.
#[derive(Debug, Deserialize)]
pub struct AmazonErratum {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub cveids: Option<Vec<String>>,
    #[serde(default)]
    pub packages: Option<Vec<RpmPackage>>,
}

/// A module stream of a Rocky collection.
#[derive(Debug, Deserialize)]
pub struct RockyModule {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub stream: Option<String>,
}

/// The packages of one Rocky collection (a module stream, or none).
#[derive(Debug, Deserialize)]
pub struct RockyCollection {
    #[serde(default)]
    pub module: Option<RockyModule>,
    #[serde(default)]
    pub packages: Option<Vec<RpmPackage>>,
}

/// `rocky/<release>/<repo>/<arch>/<year>/<RLSA>.json`.
#[derive(Debug, Deserialize)]
pub struct RockyErratum {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub cveids: Option<Vec<String>>,
    #[serde(default)]
    pub collections: Option<Vec<RockyCollection>>,
    #[serde(default)]
    pub packages: Option<Vec<RpmPackage>>,
}

/// A reference of an Alma erratum.
#[derive(Debug, Deserialize)]
pub struct AlmaReference {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
}

/// The package list of an Alma erratum.
#[derive(Debug, Deserialize)]
pub struct AlmaPackageList {
    #[serde(default)]
    pub packages: Option<Vec<RpmPackage>>,
}

/// `alma/<major>/<year>/<ALSA>.json`.
#[derive(Debug, Deserialize)]
pub struct AlmaErratum {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub updateinfo_id: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub references: Option<Vec<AlmaReference>>,
    #[serde(default)]
    pub pkglist: Option<AlmaPackageList>,
}

/// A package's state in one Ubuntu release.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UbuntuState {
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

/// `ubuntu/<year>/CVE-*.json` (Ubuntu CVE tracker).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UbuntuCve {
    pub candidate: String,
    #[serde(default)]
    pub priority: Option<String>,
    /// Source package → release codename → state.
    #[serde(default)]
    pub patches: Option<BTreeMap<String, Option<BTreeMap<String, UbuntuState>>>>,
}

/// A release of `distributions.json` (Debian tracker).
#[derive(Debug, Deserialize)]
pub struct DebianDistribution {
    #[serde(default, rename = "major-version")]
    pub major_version: Option<String>,
}

/// `source/<release>/…` and `updates-source/<release>/…` (a source package of the archive).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DebianSource {
    #[serde(default)]
    pub package: Option<Vec<String>>,
    #[serde(default)]
    pub version: Option<Vec<String>>,
}

/// The header of a tracker file (the CVE, DSA or DLA id).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DebianHeader {
    #[serde(rename = "ID")]
    pub id: String,
}

/// One annotation of a tracker file: a package line (`Type: package`) or a cross reference
/// (`Type: xref`, with `Bugs`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DebianAnnotation {
    #[serde(default, rename = "Type")]
    pub kind_of_line: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub release: Option<String>,
    #[serde(default)]
    pub package: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub bugs: Option<Vec<String>>,
}

/// `CVE/*.json`, `DSA/*.json`, `DLA/*.json` (Debian security tracker).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DebianTrackerFile {
    pub header: DebianHeader,
    #[serde(default)]
    pub annotations: Option<Vec<DebianAnnotation>>,
}

/// An OVAL criterion: a comment and, in Red Hat's OVAL v2, the test it refers to.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OvalCriterion {
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub test_ref: Option<String>,
}

/// An OVAL criteria tree.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OvalCriteria {
    #[serde(default)]
    pub criterions: Option<Vec<OvalCriterion>>,
    #[serde(default)]
    pub criterias: Option<Vec<OvalCriteria>>,
}

/// A CVE of an Oracle OVAL definition.
#[derive(Debug, Deserialize)]
pub struct OracleCve {
    #[serde(default, rename = "ID")]
    pub id: Option<String>,
}

/// `oval/oracle/<year>/ELSA-*.json`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OracleDefinition {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub cves: Option<Vec<OracleCve>>,
    #[serde(default)]
    pub criteria: Option<OvalCriteria>,
}

/// The tracking block of a SUSE CVRF document.
#[derive(Debug, Deserialize)]
pub struct SuseTracking {
    #[serde(rename = "ID")]
    pub id: String,
}

/// A threat of a SUSE CVRF vulnerability.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SuseThreat {
    #[serde(default)]
    pub severity: Option<String>,
}

/// A vulnerability of a SUSE CVRF document.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SuseVulnerability {
    #[serde(default)]
    pub threats: Option<Vec<SuseThreat>>,
}

/// A product relationship: package `name-version-release` in a product.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SuseRelationship {
    #[serde(default)]
    pub product_reference: Option<String>,
    #[serde(default)]
    pub relates_to_product_reference: Option<String>,
}

/// The product tree of a SUSE CVRF document.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SuseProductTree {
    #[serde(default)]
    pub relationships: Option<Vec<SuseRelationship>>,
}

/// `cvrf/suse/{suse,opensuse}/…/*.json` (SUSE CVRF).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SuseCvrf {
    pub tracking: SuseTracking,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub vulnerabilities: Option<Vec<SuseVulnerability>>,
    #[serde(default)]
    pub product_tree: Option<SuseProductTree>,
}

/// `photon/<release>/<package>/<CVE>.json`.
#[derive(Debug, Deserialize)]
pub struct PhotonCve {
    pub os_version: String,
    pub cve_id: String,
    pub pkg: String,
    #[serde(default)]
    pub res_ver: Option<String>,
    #[serde(default)]
    pub cve_score: Option<f64>,
}

/// A CVSS v3 block of an NVD record.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NvdCvssData {
    #[serde(default)]
    pub base_severity: Option<String>,
}

/// A CVSS v3.x metric of an NVD record.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NvdCvss3 {
    #[serde(default)]
    pub cvss_data: Option<NvdCvssData>,
}

/// A CVSS v2 metric of an NVD record (its severity sits beside the data).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NvdCvss2 {
    #[serde(default)]
    pub base_severity: Option<String>,
}

/// The metrics of an NVD record.
#[derive(Debug, Default, Deserialize)]
pub struct NvdMetrics {
    #[serde(default, rename = "cvssMetricV31")]
    pub v31: Option<Vec<NvdCvss3>>,
    #[serde(default, rename = "cvssMetricV30")]
    pub v30: Option<Vec<NvdCvss3>>,
    #[serde(default, rename = "cvssMetricV2")]
    pub v2: Option<Vec<NvdCvss2>>,
}

/// A description of an NVD record.
#[derive(Debug, Deserialize)]
pub struct NvdDescription {
    #[serde(default)]
    pub lang: Option<String>,
    #[serde(default)]
    pub value: Option<String>,
}

/// `vuln-list-nvd/api/<year>/CVE-*.json` (NVD API 2.0).
#[derive(Debug, Deserialize)]
pub struct NvdCve {
    pub id: String,
    #[serde(default)]
    pub metrics: Option<NvdMetrics>,
    #[serde(default)]
    pub descriptions: Option<Vec<NvdDescription>>,
}

/// The package an OSV record affects.
#[derive(Debug, Deserialize)]
pub struct OsvPackage {
    #[serde(default)]
    pub ecosystem: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

/// An event of an OSV range (only `fixed` is read).
#[derive(Debug, Deserialize)]
pub struct OsvEvent {
    #[serde(default)]
    pub fixed: Option<String>,
}

/// A version range of an OSV record.
#[derive(Debug, Deserialize)]
pub struct OsvRange {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub events: Option<Vec<OsvEvent>>,
}

/// One affected package of an OSV record.
#[derive(Debug, Deserialize)]
pub struct OsvAffected {
    #[serde(default)]
    pub package: Option<OsvPackage>,
    #[serde(default)]
    pub ranges: Option<Vec<OsvRange>>,
}

/// An OSV record (the OSV schema).
#[derive(Debug, Deserialize)]
pub struct OsvRecord {
    pub id: String,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub related: Option<Vec<String>>,
    #[serde(default)]
    pub aliases: Option<Vec<String>>,
    #[serde(default)]
    pub affected: Option<Vec<OsvAffected>>,
}

/// The CPEs of a repository in `repository-to-cpe.json`: a list, or `{"cpes": [...]}`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RepositoryCpes {
    /// `[cpe, …]`.
    List(Vec<String>),
    /// `{"cpes": [cpe, …]}`.
    Object {
        /// The CPEs.
        cpes: Vec<String>,
    },
}

/// `cpe/repository-to-cpe.json`: `{repo: …}` or vuln-list's `{"data": {repo: …}}`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RepositoryToCpe {
    /// `{"data": {repo: …}}`.
    Wrapped {
        /// Repository → CPEs.
        data: BTreeMap<String, RepositoryCpes>,
    },
    /// `{repo: …}`.
    Plain(BTreeMap<String, RepositoryCpes>),
}

/// A reference to another OVAL item.
#[derive(Debug, Deserialize)]
pub struct RedHatObjectRef {
    #[serde(default, rename = "ObjectRef")]
    pub object_ref: Option<String>,
}

/// A reference to an OVAL state.
#[derive(Debug, Deserialize)]
pub struct RedHatStateRef {
    #[serde(default, rename = "StateRef")]
    pub state_ref: Option<String>,
}

/// An rpminfo test of Red Hat's OVAL v2.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RedHatTest {
    #[serde(default, rename = "ID")]
    pub id: Option<String>,
    #[serde(default)]
    pub check: Option<String>,
    #[serde(default)]
    pub object: Option<RedHatObjectRef>,
    #[serde(default)]
    pub state: Option<RedHatStateRef>,
}

/// An rpminfo object (a package name).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RedHatObject {
    #[serde(default, rename = "ID")]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

/// A text value with an operation (`Evr`, `Arch`, `SignatureKeyID`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RedHatValue {
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub operation: Option<String>,
}

/// An rpminfo state (a version bound, architectures, a signing key).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RedHatState {
    #[serde(default, rename = "ID")]
    pub id: Option<String>,
    #[serde(default, rename = "SignatureKeyID")]
    pub signature_key_id: Option<RedHatValue>,
    #[serde(default)]
    pub evr: Option<RedHatValue>,
    #[serde(default)]
    pub arch: Option<RedHatValue>,
}

/// `tests/tests.json` of an OVAL v2 stream.
#[derive(Debug, Deserialize)]
pub struct RedHatTests {
    #[serde(default, rename = "RpminfoTests")]
    pub tests: Option<Vec<RedHatTest>>,
}

/// `objects/objects.json` of an OVAL v2 stream.
#[derive(Debug, Deserialize)]
pub struct RedHatObjects {
    #[serde(default, rename = "RpminfoObjects")]
    pub objects: Option<Vec<RedHatObject>>,
}

/// `states/states.json` of an OVAL v2 stream.
#[derive(Debug, Deserialize)]
pub struct RedHatStates {
    #[serde(default, rename = "RpminfoState")]
    pub states: Option<Vec<RedHatState>>,
}

/// A CVE of a Red Hat OVAL definition, with its own impact.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RedHatCve {
    #[serde(default, rename = "CveID")]
    pub cve_id: Option<String>,
    #[serde(default)]
    pub impact: Option<String>,
}

/// The resolution of an unpatched definition.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RedHatResolution {
    #[serde(default)]
    pub state: Option<String>,
}

/// What an unpatched definition says of the affected package.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RedHatAffected {
    #[serde(default)]
    pub resolution: Option<RedHatResolution>,
}

/// The advisory block of a definition.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RedHatAdvisory {
    #[serde(default)]
    pub affected_cpe_list: Option<Vec<String>>,
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub cves: Option<Vec<RedHatCve>>,
    #[serde(default)]
    pub affected: Option<RedHatAffected>,
}

/// A reference of a definition (an erratum, a CVE).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RedHatReference {
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default, rename = "RefID")]
    pub ref_id: Option<String>,
}

/// The metadata of a definition.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RedHatMetadata {
    #[serde(default)]
    pub advisory: Option<RedHatAdvisory>,
    #[serde(default)]
    pub references: Option<Vec<RedHatReference>>,
}

/// `oval/<major>/<stream>/definitions/**.json`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RedHatDefinition {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(default)]
    pub metadata: Option<RedHatMetadata>,
    #[serde(default)]
    pub criteria: Option<OvalCriteria>,
}

/// A product entry of a security data API record (`affected_release`, `package_state`).
/// Deserialized only to check a record's shape (objects with string product names), as
/// trivy-db does; coldscan takes nothing else from them.
#[derive(Debug, Deserialize)]
#[allow(dead_code)]
pub struct RedHatProduct {
    #[serde(default)]
    pub product_name: Option<String>,
    /// The entry's other fields: flattening makes serde accept only an object here (a bare
    /// list would otherwise fill the struct field by field).
    #[serde(flatten)]
    other: BTreeMap<String, serde::de::IgnoredAny>,
}

/// One product entry, or a list of them.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum OneOrMany<T> {
    /// A list.
    Many(Vec<T>),
    /// A single entry.
    One(T),
}

/// The Bugzilla block of a security data API record.
#[derive(Debug, Deserialize)]
pub struct RedHatBugzilla {
    #[serde(default)]
    pub description: Option<String>,
}

/// `api/<year>/CVE-*.json` (Red Hat security data API).
#[derive(Debug, Deserialize)]
pub struct RedHatApiRecord {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub threat_severity: Option<String>,
    #[serde(default)]
    pub bugzilla: Option<RedHatBugzilla>,
    /// Checked for shape only (see [`RedHatProduct`]).
    #[serde(default)]
    #[allow(dead_code)]
    pub affected_release: Option<OneOrMany<RedHatProduct>>,
    /// Checked for shape only (see [`RedHatProduct`]).
    #[serde(default)]
    #[allow(dead_code)]
    pub package_state: Option<OneOrMany<RedHatProduct>>,
}
