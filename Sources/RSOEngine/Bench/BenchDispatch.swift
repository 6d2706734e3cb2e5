/// Runs a benchmark body over chunks on a scheduler through a closure that captures nothing.
///
/// Why: WorkerPool.forEachChunk hands its (non-escaping) body to the workers inside
/// `withoutActuallyEscaping`; a worker's copy of the job (`let j = job.pointee`) stays alive
/// until the end of its loop iteration, after it has signalled completion, so the caller can
/// leave `withoutActuallyEscaping` while that copy still holds the closure context and the
/// runtime traps ("closure argument was escaped in withoutActuallyEscaping block") — seen at
/// once in debug builds with the peak loops, where all workers finish together. A context-free
/// closure has no reference count to trip the check. Remove once the worker releases its copy
/// before `pending.subtract` (scope `j` in a `do { }` block).
///
/// Not reentrant: one benchmark region at a time (the bench commands are sequential).
enum BenchDispatch {
    nonisolated(unsafe) private static var body: ((Int, Int) -> Void)?

    static func forEachChunk(_ scheduler: ChunkScheduler, _ count: Int, _ work: @escaping (Int, Int) -> Void) {
        body = work
        scheduler.forEachChunk(count) { c, w in BenchDispatch.body!(c, w) }
        body = nil
    }
}
