@testable import RSOEngine

/// The production schedulers. Thread-count tests run each against a serial baseline: results must
/// be bit-identical on either scheduler for any worker count.
enum ProductionScheduler: String, CaseIterable {
    case pool, openmp

    /// A fresh scheduler with `threads` workers. The pool is unpinned: binding the test runner's
    /// thread would outlive the pool and put any OpenMP team created later (its threads inherit
    /// the binding) on one core.
    func make(threads: Int) throws -> ChunkScheduler {
        switch self {
        case .pool: return WorkerPool(plan: ThreadPlan.make(cores: try MachineInfo.cores(), threads: threads), pin: false)
        case .openmp: return OpenMPScheduler(threads: threads)
        }
    }
}
