//! Memory: the 2,001-package rpm databases (SQLite and BerkeleyDB) are read under an 8 MiB
//! core budget, and a counting global allocator proves the heap stayed under it.

mod common;

use coldscan_core::pkg::DbFormat;
use coldscan_core::Budget;
use coldscan_host::source::FileSource;
use common::counting::{measure, Counting};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const BUDGET: usize = 8 << 20;

#[test]
fn two_thousand_packages_under_eight_mib() {
    let dir = common::fixtures().join("rpmdb");
    for (case, file) in [("sqlite", "rpmdb.sqlite"), ("bdb-le", "Packages")] {
        let db = FileSource::open(&dir.join(case).join(file)).unwrap();
        let budget = Budget::new(BUDGET);
        let format = DbFormat::detect(&db).unwrap().unwrap();
        let (inv, heap_peak, left) = measure(|| format.read(&db, None, file, &budget).unwrap());
        eprintln!(
            "{case}: {} packages, heap peak {heap_peak} bytes, budget peak {}",
            inv.packages.len(),
            budget.peak()
        );
        let expected = std::fs::read_to_string(dir.join(case).join("expected.tsv")).unwrap().lines().count();
        assert_eq!(inv.packages.len(), expected);
        assert!(expected > 2000);
        assert!(heap_peak < BUDGET, "{case}: heap peak {heap_peak}");
        // The list's memory is accounted for: what is live is what the budget holds, roughly.
        assert!(budget.used() * 2 > left, "{case}: {left} bytes live, only {} charged", budget.used());
    }
}
