import CSupport
import Foundation
import XCTest
@testable import RSOEngine

final class OpenMPSchedulerTests: XCTestCase {
    /// Every chunk runs once, member w takes [count·w/T, count·(w+1)/T) with T = min(team, count),
    /// and a team of n really runs on n threads.
    func testEveryChunkRunsOnceOnItsStaticMember() {
        for n in [1, 2, 3, 4] {
            let s = OpenMPScheduler(threads: n)
            XCTAssertEqual(s.workers, n)
            for count in [0, 1, 2, 3, 7, 100] {
                var hits = [Int32](repeating: 0, count: count), who = hits
                var thread = [pthread_t](repeating: 0, count: count)
                hits.withUnsafeMutableBufferPointer { hits in
                    who.withUnsafeMutableBufferPointer { who in
                        thread.withUnsafeMutableBufferPointer { thread in
                            s.forEachChunk(count) { c, w in hits[c] += 1; who[c] = Int32(w); thread[c] = pthread_self() }
                        }
                    }
                }
                XCTAssertEqual(hits, [Int32](repeating: 1, count: count), "n \(n) count \(count)")
                let team = min(n, count)
                for c in 0..<count {
                    XCTAssertEqual(Int(who[c]), (0..<team).first { count * ($0 + 1) / team > c }!, "n \(n) count \(count) chunk \(c)")
                }
                if count >= n { XCTAssertEqual(Set(thread).count, n, "n \(n) count \(count): distinct threads") }
            }
        }
    }

    /// --threads, then OMP_NUM_THREADS (first entry of a per-level list), then one per core.
    func testTeamSizePrecedence() throws {
        let env = ["OMP_NUM_THREADS": "6"]
        XCTAssertTrue(try OpenMPScheduler.teamSize(threads: 3, environment: env, cores: 2) == (3, .flag))
        XCTAssertTrue(try OpenMPScheduler.teamSize(threads: nil, environment: env, cores: 2) == (6, .environment))
        XCTAssertTrue(try OpenMPScheduler.teamSize(threads: nil, environment: ["OMP_NUM_THREADS": " 8,1"], cores: 2) == (8, .environment))
        XCTAssertTrue(try OpenMPScheduler.teamSize(threads: nil, environment: [:], cores: 2) == (2, .cores))
        for bad in ["", "abc", "0", "-2", ",4"] {
            XCTAssertThrowsError(try OpenMPScheduler.teamSize(threads: nil, environment: ["OMP_NUM_THREADS": bad], cores: 2)) {
                XCTAssertTrue("\($0)".contains("OMP_NUM_THREADS=\"\(bad)\""), "\($0)")
            }
        }
    }

    /// `configured` reads this process's environment (what `rso --scheduler openmp` runs).
    func testConfiguredReadsTheEnvironment() throws {
        setenv("OMP_NUM_THREADS", "3", 1)
        defer { unsetenv("OMP_NUM_THREADS") }
        XCTAssertEqual(try OpenMPScheduler.configured(threads: nil).workers, 3)
        XCTAssertEqual(try OpenMPScheduler.configured(threads: 2).workers, 2)
        setenv("OMP_NUM_THREADS", "many", 1)
        XCTAssertThrowsError(try OpenMPScheduler.configured(threads: nil))
    }
}

extension OpenMPSchedulerTests {
    private func bindingList() -> String {
        var buf = [CChar](repeating: 0, count: 256)
        XCTAssertEqual(cs_thread_binding_list(&buf, buf.count), 0)
        return String(cString: buf)
    }

    /// A pinned pool binds its calling thread as worker 0; OpenMP threads created later inherit it.
    /// `preservingThreadBinding` (used by `rso bench scaling` around each pool row) undoes it.
    func testThreadBindingIsPutBack() throws {
        let cores = try MachineInfo.cores()
        guard Set(cores.map(\.pu)).count > 1 else { throw XCTSkip("one PU: no other binding to move to") }
        let before = bindingList()
        let other = cores.map(\.pu).first { "\($0)" != before }!
        preservingThreadBinding {
            XCTAssertEqual(cs_bind_current_thread(Int32(other)), 0)
            XCTAssertEqual(bindingList(), "\(other)")
        }
        XCTAssertEqual(bindingList(), before)
    }

    /// A rank bound to one core by its launcher (mpirun --bind-to core) plans on that core only,
    /// so ranks sharing a node pin disjoint cores; with no usable binding every core stays.
    func testCoresInBindingKeepTheBoundCore() throws {
        let cores = try MachineInfo.cores()
        guard Set(cores.map(\.pu)).count > 1 else { throw XCTSkip("one PU: every binding holds all cores") }
        let last = cores.last!
        preservingThreadBinding {
            XCTAssertEqual(cs_bind_current_thread(Int32(last.pu)), 0)
            XCTAssertEqual(MachineInfo.coresInBinding(cores).map(\.index), [last.index])
            XCTAssertEqual(ThreadPlan.make(cores: MachineInfo.coresInBinding(cores), threads: 1).workers.map(\.pu), [last.pu])
            // A binding outside the given cores leaves them all (never an empty plan).
            XCTAssertEqual(MachineInfo.coresInBinding(Array(cores.dropLast())).count, cores.count - 1)
        }
    }
}
