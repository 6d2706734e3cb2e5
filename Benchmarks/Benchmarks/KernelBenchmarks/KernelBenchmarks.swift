// Conv and batch-norm kernels on real layer shapes of mnist6 and cifar-depth10, one thread,
// through the same registry (`KernelCase.cases`) and workloads (`KernelWorkload`) that
// `rso bench kernels` uses. Reports wall clock percentiles and a custom "prefers larger"
// MFLOP/s metric (FLOPs of one whole-batch pass ÷ its time), so baselines can be compared
// across commits instead of asserting times.
import Benchmark
import RSOEngine

let mflops = BenchmarkMetric.custom("MFLOP/s", polarity: .prefersLarger, useScalingFactor: false)

/// Samples per pass: 8 chunks of 32 — a few ms per conv pass, enough iterations in a second.
let samples = 256

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, mflops],
        timeUnits: .microseconds,
        warmupIterations: 2,
        maxDuration: .seconds(2),
        maxIterations: 200)

    let families: Set<KernelCase.Family> = [.conv, .bnReluInfer, .bnReluAvgpool2]
    for net in [NetworkZoo.mnist6(), NetworkZoo.cifarDepth10()] {
        // Optimised variants only: the slow reference conv would dominate the suite's run time.
        for c in KernelCase.cases(for: net, families: families) where c.variant != .ref {
            let sites = c.sites.joined(separator: "+")
            Benchmark("\(net.name) \(c.family.rawValue) __\(c.variant.rawValue) \(c.shapeDescription) [\(sites)]") { benchmark, workload in
                let clock = ContinuousClock()
                let elapsed = clock.measure {
                    for _ in benchmark.scaledIterations { workload.run() }
                }
                let seconds = BenchHarness.seconds(elapsed) / Double(benchmark.scaledIterations.count)
                benchmark.measurement(mflops, Int((workload.totalFlops / max(seconds, 1e-12) / 1e6).rounded()))
            } setup: {
                KernelWorkload(c, samples: samples, chunkSamples: KernelBenchmark.defaultChunkSamples,
                               scheduler: SerialScheduler())
            }
        }
    }
}
