import CSupport
import Foundation
import Synchronization

/// The engine's own workers: one thread per planned core, pinned with hwloc, woken for each
/// parallel region. The calling thread is worker 0. Chunk c always goes to the same worker
/// (contiguous static ranges, workers ordered by NUMA node), so the chunk's buffers are first
/// touched — and so placed — on that worker's node, and stay there trial after trial.
public final class WorkerPool: ChunkScheduler, @unchecked Sendable {
    public let plan: ThreadPlan
    public var workers: Int { plan.workers.count }
    public var replicas: Int { plan.replicas }
    public func replica(ofWorker w: Int) -> Int { plan.replica(ofWorker: w) }

    /// Everything the worker threads touch. They hold it strongly, not the pool: a thread may only
    /// begin running after the pool is released (an error right after creating it), and must then
    /// still find its state alive, see `stopping` and exit.
    private let shared: Shared

    /// `pin`: bind each worker to its planned PU (only meaningful for this machine's plan).
    public init(plan: ThreadPlan, pin: Bool = true) {
        self.plan = plan
        shared = Shared(plan: plan, pin: pin)
        cs_blas_set_threads(1)
        if pin { _ = cs_bind_current_thread(Int32(plan.workers[0].pu)) }
        let extra = max(1, plan.workers.count) - 1
        shared.running.store(extra, ordering: .sequentiallyConsistent)
        for w in 1..<(extra + 1) {
            let t = Thread { [shared] in
                shared.workerLoop(w)
                shared.running.subtract(1, ordering: .releasing)
            }
            t.name = "rso-worker-\(w)"
            t.stackSize = 1 << 20
            t.start()
        }
    }

    /// This machine's plan: one worker per core (or `threads`), NUMA-aware unless `numa` is false.
    public convenience init(threads: Int? = nil, numa: Bool = true) throws {
        self.init(plan: ThreadPlan.make(cores: try MachineInfo.cores(), threads: threads, numa: numa))
    }

    /// Stops the workers and waits until every one has left its loop (also those not yet started),
    /// so no worker outlives the pool.
    deinit {
        shared.stopping.store(true, ordering: .sequentiallyConsistent)
        pthread_mutex_lock(shared.mutex)
        shared.generation.add(1, ordering: .sequentiallyConsistent)
        pthread_cond_broadcast(shared.wake)
        pthread_mutex_unlock(shared.mutex)
        while shared.running.load(ordering: .acquiring) > 0 { sched_yield() }
    }

    /// Chunks [count·w/W, count·(w+1)/W) run on worker w.
    public func forEachChunk(_ count: Int, _ body: (Int, Int) -> Void) {
        let n = workers
        if n == 1 || count <= 1 {
            for c in 0..<count { body(c, 0) }
            return
        }
        let s = shared
        withoutActuallyEscaping(body) { escaping in
            s.job.pointee = Job(count: count, body: escaping)
            s.pending.store(n - 1, ordering: .relaxed)
            pthread_mutex_lock(s.mutex)
            s.generation.add(1, ordering: .releasing)
            pthread_cond_broadcast(s.wake)
            pthread_mutex_unlock(s.mutex)
            s.runShare(0, count: count, body: escaping)
            var spins = 0
            while s.pending.load(ordering: .acquiring) > 0 {
                spins += 1
                if spins > 2000 { sched_yield() }
            }
            s.job.pointee.body = nil
        }
    }

    private struct Job {
        var count = 0
        var body: ((Int, Int) -> Void)? = nil
    }

    private final class Shared: @unchecked Sendable {
        let plan: ThreadPlan
        let pin: Bool
        let generation = Atomic<Int>(0)
        let pending = Atomic<Int>(0)
        let stopping = Atomic<Bool>(false)
        /// Worker threads that have not yet left their loop.
        let running = Atomic<Int>(0)
        let job: UnsafeMutablePointer<Job>
        let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

        init(plan: ThreadPlan, pin: Bool) {
            self.plan = plan
            self.pin = pin
            job = .allocate(capacity: 1)
            job.initialize(to: Job())
            pthread_mutex_init(mutex, nil)
            pthread_cond_init(wake, nil)
        }

        deinit {
            job.deinitialize(count: 1)
            job.deallocate()
            pthread_cond_destroy(wake)
            pthread_mutex_destroy(mutex)
            mutex.deallocate()
            wake.deallocate()
        }

        @inline(__always)
        func runShare(_ w: Int, count: Int, body: (Int, Int) -> Void) {
            let n = plan.workers.count
            for c in (count * w / n)..<(count * (w + 1) / n) { body(c, w) }
        }

        /// Runs worker w's share of the published job. Not inlined: every reference the worker takes
        /// to the caller's (non-escaping) body is released when this returns — before the worker
        /// reports done — so the caller's `withoutActuallyEscaping` never sees it escape.
        @inline(never)
        func runPublishedJob(_ w: Int) {
            let j = job.pointee
            if let body = j.body { runShare(w, count: j.count, body: body) }
        }

        func workerLoop(_ w: Int) {
            if pin { _ = cs_bind_current_thread(Int32(plan.workers[w].pu)) }
            var seen = 0
            while true {
                // Spin briefly (regions come in quick succession inside a trial), then sleep.
                var spins = 0
                var current = generation.load(ordering: .acquiring)
                while current == seen && spins < 20_000 {
                    spins += 1
                    current = generation.load(ordering: .acquiring)
                }
                if current == seen {
                    pthread_mutex_lock(mutex)
                    while generation.load(ordering: .acquiring) == seen { pthread_cond_wait(wake, mutex) }
                    pthread_mutex_unlock(mutex)
                    current = generation.load(ordering: .acquiring)
                }
                seen = current
                if stopping.load(ordering: .acquiring) { return }
                runPublishedJob(w)
                pending.subtract(1, ordering: .releasing)
            }
        }
    }
}
