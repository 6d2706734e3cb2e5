import CSupport
import Foundation
import XCTest

@testable import RSOEngine

/// The C glue of CSupport: topology (hwloc), file reading (zlib), OpenMP loop, OpenBLAS control.
final class CGlueDataTests: XCTestCase {
    // MARK: - Topology

    private func summarize(_ synthetic: String?) -> (rc: Int32, summary: cs_topology_summary, error: String) {
        var s = cs_topology_summary()
        var err = [CChar](repeating: 0, count: 256)
        let rc = cs_topology_summarize(synthetic, &s, &err, err.count)
        return (rc, s, err.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
    }

    private func model(_ s: cs_topology_summary) -> String {
        withUnsafeBytes(of: s.cpu_model) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    func testSyntheticTopology() {
        let r = summarize("pack:2 numa:2 core:8 pu:1")
        XCTAssertEqual(r.rc, 0, r.error)
        XCTAssertEqual(r.summary.packages, 2)
        XCTAssertEqual(r.summary.numa_nodes, 4)
        XCTAssertEqual(r.summary.cores, 32)
        XCTAssertEqual(r.summary.pus, 32)
        XCTAssertEqual(model(r.summary), "unknown")

        let smt = summarize("pack:1 core:4 pu:2")
        XCTAssertEqual(smt.rc, 0, smt.error)
        XCTAssertEqual([smt.summary.packages, smt.summary.numa_nodes, smt.summary.cores, smt.summary.pus], [1, 1, 4, 8])
    }

    func testInvalidSyntheticTopologyReportsError() {
        let r = summarize("bogus:3 things")
        XCTAssertEqual(r.rc, -1)
        XCTAssertTrue(r.error.contains("bogus:3 things"), r.error)
    }

    func testRealMachineTopology() {
        let r = summarize(nil)
        XCTAssertEqual(r.rc, 0, r.error)
        XCTAssertGreaterThanOrEqual(r.summary.cores, 1)
        XCTAssertGreaterThanOrEqual(r.summary.pus, r.summary.cores)
        XCTAssertGreaterThanOrEqual(r.summary.packages, 1)
        XCTAssertGreaterThanOrEqual(r.summary.numa_nodes, 1)
        XCTAssertFalse(model(r.summary).isEmpty)
        print("topology: \(r.summary.packages) packages, \(r.summary.numa_nodes) NUMA, \(r.summary.cores) cores, "
              + "\(r.summary.pus) PUs, \(model(r.summary))")
    }

    // MARK: - Files

    private func read(_ path: String) -> (rc: Int32, bytes: [UInt8], longer: Bool, error: String) {
        DataFixtures.readBounded(path, limit: 1 << 30)
    }

    private var dirs: [String] = []
    override func tearDown() {
        dirs.forEach(DataFixtures.remove)
        super.tearDown()
    }
    private func temp() throws -> String {
        let d = try DataFixtures.makeTempDirectory("files")
        dirs.append(d)
        return d
    }

    func testReadPlainFile() throws {
        let dir = try temp()
        let payload = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let path = DataFixtures.path(dir, "plain.bin")
        try DataFixtures.write(payload, to: path)
        let r = read(path)
        XCTAssertEqual(r.rc, 0, r.error)
        XCTAssertEqual(r.bytes, payload)

        let empty = DataFixtures.path(dir, "empty.bin")
        try DataFixtures.write([], to: empty)
        let e = read(empty)
        XCTAssertEqual(e.rc, 0, e.error)
        XCTAssertEqual(e.bytes, [])

        let one = DataFixtures.path(dir, "one.bin")
        try DataFixtures.write([0x1F], to: one)  // half a gzip magic is just a byte
        XCTAssertEqual(read(one).bytes, [0x1F])
    }

    func testReadGzipFiles() throws {
        let dir = try temp()
        // Stored blocks spanning several 64 KiB blocks, and two concatenated members.
        let a = (0..<150_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        let b: [UInt8] = Array("second member".utf8)
        let path = DataFixtures.path(dir, "multi.gz")
        try DataFixtures.write(DataFixtures.storedGzip(a) + DataFixtures.storedGzip(b), to: path)
        let r = read(path)
        XCTAssertEqual(r.rc, 0, r.error)
        XCTAssertEqual(r.bytes, a + b)

        // Zero padding after the last member is accepted (as gunzip does); other trailing data is not.
        try DataFixtures.write(DataFixtures.storedGzip(b) + [0, 0, 0, 0], to: path)
        XCTAssertEqual(read(path).bytes, b)
        try DataFixtures.write(DataFixtures.storedGzip(b) + [0x41, 0x42], to: path)
        let trailing = read(path)
        XCTAssertEqual(trailing.rc, -1)
        XCTAssertTrue(trailing.error.contains(path) && trailing.error.contains("trailing data"), trailing.error)

        // Real deflate data: the official MNIST test labels.
        let real = DataFixtures.path(try DataFixtures.realDirectory("mnist"), "t10k-labels-idx1-ubyte.gz")
        let labels = read(real)
        XCTAssertEqual(labels.rc, 0, labels.error)
        XCTAssertEqual(labels.bytes.count, 10_008)
        XCTAssertEqual(Array(labels.bytes.prefix(8)), [0, 0, 8, 1, 0, 0, 0x27, 0x10])
        XCTAssertEqual(Array(labels.bytes[8..<18]), [7, 2, 1, 0, 4, 1, 4, 9, 5, 9])
    }

    func testReadTruncatedGzipFails() throws {
        let dir = try temp()
        let real = DataFixtures.path(try DataFixtures.realDirectory("mnist"), "t10k-images-idx3-ubyte.gz")
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: real)))
        let path = DataFixtures.path(dir, "cut.gz")
        for keep in [bytes.count - 1, bytes.count - 9, bytes.count / 2, 20, 3] {
            try DataFixtures.write(Array(bytes.prefix(keep)), to: path)
            let r = read(path)
            XCTAssertEqual(r.rc, -1, "kept \(keep) bytes")
            XCTAssertTrue(r.error.hasPrefix(path + ": truncated gzip stream"), r.error)
            XCTAssertTrue(r.bytes.isEmpty)
        }
    }

    func testReadCorruptGzipFails() throws {
        let dir = try temp()
        var gz = DataFixtures.storedGzip(Array("hello, world".utf8))
        gz[gz.count - 1] ^= 1  // ISIZE
        let path = DataFixtures.path(dir, "bad.gz")
        try DataFixtures.write(gz, to: path)
        let r = read(path)
        XCTAssertEqual(r.rc, -1)
        XCTAssertTrue(r.error.contains(path) && r.error.contains("corrupt gzip stream"), r.error)
    }

    func testReadMissingFileFails() {
        let path = "/nonexistent/rso-\(UUID().uuidString).gz"
        let r = read(path)
        XCTAssertEqual(r.rc, -1)
        XCTAssertTrue(r.error.contains(path) && r.error.contains("No such file"), r.error)
        let d = read("/tmp")
        XCTAssertEqual(d.rc, -1)
        XCTAssertTrue(d.error.contains("is a directory"), d.error)
    }

    // MARK: - OpenMP loop and OpenBLAS control

    func testParallelForVisitsEveryIndexOnce() {
        for threads: Int32 in [0, 1, 2, 3] {
            var hits = [Int32](repeating: 0, count: 10_001)
            hits.withUnsafeMutableBufferPointer { buf in
                cs_parallel_for(buf.count, threads, { ctx, i in
                    ctx!.assumingMemoryBound(to: Int32.self)[i] += 1
                }, buf.baseAddress)
            }
            XCTAssertEqual(hits, [Int32](repeating: 1, count: 10_001), "threads \(threads)")
        }
        cs_parallel_for(0, 2, { _, _ in fatalError("no iteration expected") }, nil)
        XCTAssertGreaterThanOrEqual(cs_omp_max_threads(), 1)
    }

    func testBLASControl() {
        let config = String(cString: cs_blas_config())
        XCTAssertTrue(config.contains("OpenBLAS"), config)
        let before = cs_blas_get_threads()
        cs_blas_set_threads(1)
        XCTAssertEqual(cs_blas_get_threads(), 1)
        cs_blas_set_threads(before)
        XCTAssertEqual(cs_blas_get_threads(), before)
    }
}
