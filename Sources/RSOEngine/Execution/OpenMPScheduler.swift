import CSupport
import Foundation

/// Runs the chunks of each parallel region on an OpenMP team driven from the calling thread
/// (`--scheduler openmp`). With T = min(team, count), member w takes the contiguous static range
/// [count·w/T, count·(w+1)/T): the same member gets the same chunks in every region over the same
/// chunks (every trial of a run), so a bound team (OMP_PROC_BIND) keeps each chunk's buffers where
/// they were first touched. Chunk
/// boundaries and the chunk-ordered reductions are the caller's, so results are bit-identical to
/// the pool's and to a serial run.
///
/// Placement is the OpenMP runtime's (OMP_PLACES, OMP_PROC_BIND, read by libomp at start-up): the
/// engine binds nothing itself and keeps one copy of read-shared data (the activation cache), since
/// which NUMA node a team member runs on is the runtime's choice. Drive it from one thread only,
/// never from inside another worker: each such thread would become its own OpenMP root with a full
/// team (docs/toolchain.md).
public final class OpenMPScheduler: ChunkScheduler {
    public let workers: Int

    /// A team of exactly `threads` (an explicit count overrides OMP_NUM_THREADS).
    public init(threads: Int) {
        workers = max(1, threads)
        // The engine owns parallelism: BLAS runs single-threaded inside each team member.
        cs_blas_set_threads(1)
    }

    /// The team `rso` runs: `threads` when given, else from this process's environment and
    /// machine (see `teamSize`).
    public static func configured(threads: Int?) throws -> OpenMPScheduler {
        OpenMPScheduler(threads: try teamSize(threads: threads, environment: ProcessInfo.processInfo.environment,
                                              cores: MachineInfo.defaultThreads).threads)
    }

    /// Where a team size came from.
    public enum TeamSizeSource: String, Sendable {
        case flag = "--threads"
        case environment = "OMP_NUM_THREADS"
        case cores = "one per physical core"
    }

    /// Team size, by precedence: an explicit `--threads` (the num_threads clause overrides
    /// OMP_NUM_THREADS, as in any OpenMP program), else OMP_NUM_THREADS (its first entry when it is a
    /// per-level list such as "8,1"), else one thread per physical core — not OpenMP's own default,
    /// which counts hardware threads and would put two team members on one SMT core.
    public static func teamSize(threads: Int?, environment: [String: String], cores: Int) throws
        -> (threads: Int, source: TeamSizeSource) {
        if let threads { return (max(1, threads), .flag) }
        if let raw = environment["OMP_NUM_THREADS"] {
            let first = raw.split(separator: ",", omittingEmptySubsequences: false).first
                .map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            guard let n = Int(first), n >= 1 else {
                throw MachineInfoError(message: "OMP_NUM_THREADS=\"\(raw)\": expected a positive thread count (or a comma-separated list whose first entry is one)")
            }
            return (n, .environment)
        }
        return (max(1, cores), .cores)
    }

    /// The runtime's placement for the next team, e.g. "OMP_PROC_BIND close, 2 places (OMP_PLACES)"
    /// or "unbound (OMP_PROC_BIND false)".
    public static var placement: String {
        let names = ["false", "true", "primary", "close", "spread"]
        let bind = Int(cs_omp_proc_bind())
        let policy = bind >= 0 && bind < names.count ? names[bind] : "\(bind)"
        if bind == 0 { return "unbound (OMP_PROC_BIND false)" }
        let places = Int(cs_omp_num_places())
        return "OMP_PROC_BIND \(policy)" + (places > 0 ? ", \(places) places (OMP_PLACES)" : "")
    }

    public func forEachChunk(_ count: Int, _ body: (Int, Int) -> Void) {
        if workers == 1 || count <= 1 {
            for c in 0..<count { body(c, 0) }
            return
        }
        let teams = min(workers, count)
        withoutActuallyEscaping(body) { body in
            var context = RangeContext(count: count, teams: teams, body: body)
            withUnsafeMutablePointer(to: &context) { ptr in
                cs_parallel_for(teams, Int32(teams), { raw, w in
                    let ctx = raw!.assumingMemoryBound(to: RangeContext.self).pointee
                    let worker = Int(w)
                    let lo = ctx.count * worker / ctx.teams
                    let hi = ctx.count * (worker + 1) / ctx.teams
                    for c in lo..<hi { ctx.body(c, worker) }
                }, ptr)
            }
        }
    }

    private struct RangeContext {
        var count: Int
        var teams: Int
        var body: (Int, Int) -> Void
    }
}
