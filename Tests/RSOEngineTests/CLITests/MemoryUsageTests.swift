import XCTest
@testable import RSOCLI

final class MemoryUsageTests: XCTestCase {
    /// The kernel right-aligns VmHWM in 8 columns after a tab: below 10 GB a space precedes the
    /// number, from 10 GB up none does. Both must parse (a 10 GB run once printed "0B").
    func testPeakResidentParsesBothAlignments() {
        XCTAssertEqual(MemoryUsage.peakResidentBytes(status: "Name:\trso\nVmHWM:\t 7880000 kB\nVmRSS:\t    1 kB\n"),
                       7_880_000 * 1024)
        XCTAssertEqual(MemoryUsage.peakResidentBytes(status: "VmPeak:\t12345678 kB\nVmHWM:\t10234567 kB\n"),
                       10_234_567 * 1024)
        XCTAssertEqual(MemoryUsage.peakResidentBytes(status: "Name:\trso\n"), 0)
    }

    func testPeakResidentOfThisProcessIsPositive() {
        XCTAssertGreaterThan(MemoryUsage.peakResidentBytes(), 0)
    }
}
