import ArgumentParser
import Foundation
import RSOEngine

/// Networks `rso bench` accepts; `all` is the two reference networks (mnist6 and cifar-depth10).
enum BenchNet: String, ExpressibleByArgument, CaseIterable, Sendable {
    case mnist6
    case cifarDepth3 = "cifar-depth3"
    case cifarDepth5 = "cifar-depth5"
    case cifarDepth10 = "cifar-depth10"
    case all

    var specs: [NetworkSpec] {
        switch self {
        case .all: return [NetworkZoo.mnist6(), NetworkZoo.cifarDepth10()]
        default: return [NetworkZoo.network(named: rawValue)!]
        }
    }
}

/// What every `rso bench` subcommand shares: networks, batch, repetitions, threads, pinning.
struct BenchOptions: ParsableArguments {
    @Option(name: .long, help: "Network; all = mnist6 and cifar-depth10.")
    var net: BenchNet = .all

    @Option(name: .long, help: "Samples per batch; kernels run it in chunks of 32, as the engine does.")
    var batch: Int = 5000

    @Option(name: .customLong("repeat"), help: "Timed repetitions per case (median, p10, p90 are reported).")
    var repetitions: Int = 5

    @Option(name: .long, help: "Untimed warm-up runs per case.")
    var warmup: Int = 1

    @Option(name: .long, help: "Samples the slow reference conv and im2col run on; their times are scaled to --batch.")
    var refSamples: Int = 512

    @Option(name: .long, help: ArgumentHelp("Only these kernel families, comma-separated: \(KernelCase.Family.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "list"))
    var family: String?

    @Option(name: .long, help: "Pin each pool worker to its core with hwloc: on (default) or off (--scheduler pool only).")
    var pin: OnOff?

    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        if batch < 1 { throw ValidationError("--batch must be a positive number of samples, got \(batch)") }
        if repetitions < 1 { throw ValidationError("--repeat must be at least 1, got \(repetitions)") }
        if warmup < 0 { throw ValidationError("--warmup must be 0 or more, got \(warmup)") }
        if refSamples < 1 { throw ValidationError("--ref-samples must be a positive number of samples, got \(refSamples)") }
        _ = try families()
        if threads.scheduler == .openmp, pin != nil {
            throw ValidationError("--pin applies to --scheduler pool; an OpenMP team is placed by OMP_PLACES / OMP_PROC_BIND")
        }
    }

    private var pinned: Bool { threads.scheduler == .pool && pin != .off }

    /// The selected families (nil: all).
    func families() throws -> Set<KernelCase.Family>? {
        guard let family else { return nil }
        var out = Set<KernelCase.Family>()
        for name in family.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            guard let f = KernelCase.Family(rawValue: name) else {
                throw ValidationError("--family: unknown family '\(name)'; accepted: \(KernelCase.Family.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            out.insert(f)
        }
        if out.isEmpty { throw ValidationError("--family names no family") }
        return out
    }

    /// Runs peaks (when given) and every case of the selected networks on one scheduler.
    func measure(command: String, peaks peakOptions: PeakOptions?) throws -> BenchReport {
        let plan = try threads.plan()
        let scheduler = try threads.makeScheduler(pin: pinned)
        let progress = BenchProgress()
        let specs = net.specs
        let selected = try families()
        var peaks: MachinePeaks? = nil
        if let peakOptions {
            progress.say("measuring peaks (FMA, stream) on 1 and \(scheduler.workers) thread(s)…")
            peaks = MachinePeaks.measure(pool: scheduler, options: peakOptions.options)
        }
        let bench = KernelBenchmark(batch: batch, chunkSamples: KernelBenchmark.defaultChunkSamples,
                                    convTile: KernelTable.convTile, referenceSamples: refSamples,
                                    harness: BenchHarness(warmup: warmup, repetitions: repetitions))
        var measurements: [KernelMeasurement] = []
        for spec in specs {
            let cases = KernelCase.cases(for: spec, families: selected)
            measurements += bench.measure(cases, on: scheduler) { i, c in
                progress.say("[\(spec.name) \(i + 1)/\(cases.count)] \(c.kernel) \(c.shapeDescription)")
            }
        }
        var context = BenchContext(command: command, networks: specs.map(\.name), batch: batch,
                                   chunkSamples: bench.chunkSamples, convTile: bench.convTile, plan: plan,
                                   pinned: pinned, repetitions: repetitions, warmup: warmup,
                                   referenceSamples: refSamples)
        if threads.scheduler == .openmp {
            context.scheduler = SchedulerKind.openmp.rawValue
            context.threads = scheduler.workers
            context.pinning = OpenMPScheduler.placement
            context.numa = false
        }
        progress.done()
        return BenchReport(context: context, peaks: peaks, measurements: measurements)
    }
}

/// How long the peak measurements run.
struct PeakOptions: ParsableArguments {
    @Option(name: .long, help: "Timed repetitions of each peak measurement.")
    var peakRepeat: Int = 7

    @Option(name: .long, help: "FMA loop iterations per thread per repetition (192 FLOPs each).")
    var fmaIterations: Int = 50_000_000

    @Option(name: .long, help: "MiB per stream array (three arrays; keep it well above the last-level cache).")
    var streamMib: Int = 128

    func validate() throws {
        if peakRepeat < 1 { throw ValidationError("--peak-repeat must be at least 1, got \(peakRepeat)") }
        if fmaIterations < 1 { throw ValidationError("--fma-iterations must be positive, got \(fmaIterations)") }
        if streamMib < 1 || streamMib > 65_536 { throw ValidationError("--stream-mib must be between 1 and 65536, got \(streamMib)") }
    }

    var options: MachinePeaks.Options {
        MachinePeaks.Options(fmaIterations: fmaIterations, streamElements: streamMib * 1_048_576 / 4,
                             warmup: 1, repetitions: peakRepeat)
    }
}

/// Progress lines on stderr, only when stderr is a terminal (stdout stays the report alone).
final class BenchProgress {
    private let enabled = isatty(STDERR_FILENO) != 0

    func say(_ line: String) {
        guard enabled else { return }
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
    }

    func done() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
