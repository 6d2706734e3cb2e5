import ArgumentParser
import Foundation
import RSOEngine

/// `rso bench trial`: RSO steps per second per layer through the trainer's code path, the
/// projected cycle time, and achieved GFLOP/s by the paper's formula and by the engine's own count.
struct BenchTrialCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trial",
        abstract: "Trials/s per layer, projected cycle time and GFLOP/s (paper formula and full count), with and without caching.")

    @Option(name: .long, help: "Network: \(NetName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var net: NetName = .mnist6
    @Option(name: .long, help: "Samples per step.")
    var batch: Int = 5000
    @OptionGroup var threads: ThreadOptions
    @Option(name: .long, help: "Timed steps per layer (median and mean reported).")
    var trials: Int = 5
    @Option(name: .long, help: "Caching: input (also spelt on: layer d's input), output (its input and pre-BN output; incremental trials only), off, or both (input and off, compared).")
    var cache: CacheChoice = .both
    @OptionGroup var trialEval: TrialEvalOption<EvalChoice>
    @Option(name: .long, help: "Trials per batch (1: a fresh batch per trial, the paper); > 1 times fresh and reused steps and mixes them 1:(K−1).")
    var batchReuse: Int = 1
    @Option(name: .long, help: "Samples of the synthetic training set the caches are built over (default: --batch). With --cache output each accepted trial patches every cached sample: give the real set's size (60000 for MNIST, 50000 for CIFAR-10) to time what a real run pays.")
    var trainSamples: Int?
    @Option(name: .long, help: "Time only these layers, comma-separated (e.g. conv2,conv3); the projected cycle then covers them alone.")
    var layers: String?
    @Flag(name: .long, help: "Print one JSON object.")
    var json = false

    enum CacheChoice: String, ExpressibleByArgument, CaseIterable { case on, off, both, input, output }
    enum EvalChoice: String, ExpressibleByArgument, CaseIterable, Sendable { case incremental, full, both }

    func validate() throws {
        if batch < 1 { throw ValidationError("--batch must be a positive number of samples, got \(batch)") }
        if trials < 1 { throw ValidationError("--trials must be at least 1, got \(trials)") }
        if batchReuse < 1 { throw ValidationError("--batch-reuse must be at least 1, got \(batchReuse)") }
        if let t = trainSamples, t < batch {
            throw ValidationError("--train-samples must be at least --batch (\(batch)), got \(t)")
        }
        if let names = onlyLayers {
            let known = Set(net.spec.layers.map(\.name))
            if let bad = names.first(where: { !known.contains($0) }) {
                throw ValidationError("--layers: \(net.rawValue) has no layer '\(bad)' (it has \(net.spec.layers.map(\.name).joined(separator: ", ")))")
            }
        }
        if cache == .output && evaluation != .incremental {
            throw ValidationError("--cache output times incremental trials only (--trial-eval incremental), got --trial-eval \(evaluation.rawValue)")
        }
    }

    var onlyLayers: Set<String>? {
        layers.map { Set($0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }) }
    }

    /// Defaults to what training runs.
    var evaluation: EvalChoice {
        trialEval.value ?? EvalChoice(rawValue: TrainingOptions(net: net.rawValue).evaluation.rawValue)!
    }

    func run() throws {
        let group: ProcessGroup
        do { group = try ProcessGroups.current() } catch { throw CLIError(description: "\(error)") }
        // Under mpirun every rank runs the same steps on its chunks; rank 0 speaks for the job.
        let json = self.json || group.rank != 0
        let quiet = group.rank != 0
        let scheduler = try threads.makeScheduler()
        let modes: [Bool] = cache == .both ? [true, false] : [cache != .off]
        let output = cache == .output
        let paths: [EvaluationPath] = evaluation == .both ? [.full, .incremental]
            : [evaluation == .incremental ? .incremental : .full]
        var results: [TrialBenchmark.Result] = []
        var incremental: [TrialBenchmark.Result] = []
        for cached in modes {
            for path in paths {
                if !json { print("\(net.rawValue), batch \(batch), \(ranksDescription(group))\(threads.describe(scheduler)), cache \(output ? "output" : cached ? "input" : "off"), trial eval \(path.rawValue), batch reuse \(batchReuse), training set \(trainSamples ?? batch), \(trials) timed steps per layer\(layers.map { " (layers \($0) only)" } ?? ""), commit \(BenchContext.gitCommit() ?? "unknown")") }
                let r = try TrialBenchmark.run(network: net.spec, batch: batch, cache: cached, outputCache: output,
                                               trainSamples: trainSamples, trials: trials, only: onlyLayers, scheduler: scheduler,
                                               evaluation: path, batchReuse: batchReuse, group: group,
                                               progress: { if !json { print("  " + $0) } })
                if path == paths[0] { results.append(r) } else { incremental.append(r) }
                if !json {
                    printTable(r)
                    if r.ranks > 1 { printCommunication(r, workers: scheduler.workers) }
                }
            }
        }
        if quiet { return }
        let rss = MemoryUsage.peakResidentBytes()
        if json {
            var obj = try jsonObject(results[0])
            obj["peak_resident_bytes"] = rss
            obj["commit"] = BenchContext.gitCommit() ?? "unknown"
            if results.count > 1 { obj["without_cache"] = try jsonObject(results[1]) }
            if let i = incremental.first { obj["incremental"] = try jsonObject(i) }
            let data = try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            if results.count == 2 {
                print(String(format: "caching: %.2f× faster per cycle (%@ vs %@)",
                             results[1].projectedCycleSeconds / results[0].projectedCycleSeconds,
                             formatDuration(results[0].projectedCycleSeconds), formatDuration(results[1].projectedCycleSeconds)))
            }
            for (f, i) in zip(results, incremental) {
                print(String(format: "incremental (cache %@): %.2f× faster per cycle (%@ vs %@ full)", f.cache ? "on" : "off",
                             f.projectedCycleSeconds / i.projectedCycleSeconds,
                             formatDuration(i.projectedCycleSeconds), formatDuration(f.projectedCycleSeconds)))
            }
            print("peak resident memory \(formatCount(Double(rss)))B")
        }
    }

    private func ranksDescription(_ group: ProcessGroup) -> String {
        group.size > 1 ? "\(group.size) MPI ranks × " : ""
    }

    /// Rank 0's collectives per step, and the projection to several nodes on a 100 Gb/s network
    /// (docs/performance.md): a node is this job's ranks × threads.
    private func printCommunication(_ r: TrialBenchmark.Result, workers: Int) {
        let nodeWorkers = r.ranks * workers
        print("  communication per step (rank 0), and projected on N nodes of \(r.ranks) × \(workers) workers, 100 Gb/s, α = 2 | 5 µs per round:")
        print("  layer   collectives   received B   payload B   comm µs   comm %     N=4 comm % (trials/s)     N=16 comm % (trials/s)     N=64 comm % (trials/s)")
        for l in r.layers {
            guard let m = l.communication else { continue }
            let t = 1 / l.trialsPerSecond
            var line = "  " + l.name.padding(toLength: 6, withPad: " ", startingAt: 0)
                + leftPad(String(format: "%.1f", m.collectives), 13) + leftPad(formatCount(m.bytesReceived), 13)
                + leftPad(formatCount(m.payloadBytes), 12) + leftPad(String(format: "%.1f", 1e6 * m.seconds), 10)
                + leftPad(String(format: "%.1f", 100 * m.seconds / t), 9)
            for nodes in [4, 16, 64] {
                let p = [2e-6, 5e-6].map {
                    CommunicationProjection(stepSeconds: t, communication: m, chunks: r.chunksPerBatch,
                                            workers: nodeWorkers, nodes: nodes, latency: $0)
                }
                line += leftPad(String(format: "%.1f|%.1f (%.0f|%.0f)", 100 * p[0].communicationShare,
                                       100 * p[1].communicationShare, 1 / p[0].stepSeconds, 1 / p[1].stepSeconds), 26)
            }
            print(line)
        }
    }

    private func printTable(_ r: TrialBenchmark.Result) {
        print("  layer   weights   steps   trials/s   median ms   paper GFLOP/trial   engine GFLOP/trial   incr GFLOP/trial   counted GFLOP/trial")
        for l in r.layers {
            print("  " + l.name.padding(toLength: 6, withPad: " ", startingAt: 0)
                  + leftPad(grouped(l.weights), 9) + leftPad(grouped(l.steps), 8)
                  + leftPad(String(format: "%.2f", l.trialsPerSecond), 11)
                  + leftPad(String(format: "%.2f", 1000 * l.medianTrialSeconds), 12)
                  + leftPad(String(format: "%.2f", l.paperFlopsPerTrial / 1e9), 20)
                  + leftPad(String(format: "%.2f", l.engineFlopsPerTrial / 1e9), 21)
                  + leftPad(String(format: "%.3f", l.incrementalFlopsPerTrial / 1e9), 19)
                  + leftPad(String(format: "%.3f", l.countedFlopsPerTrial / 1e9), 22))
        }
        print(String(format: "  projected cycle %@ (%.0f s); %.1f GFLOP/s by the paper's count (%@FLOP/cycle), %.1f GFLOP/s by the engine's full count",
                     formatDuration(r.projectedCycleSeconds), r.projectedCycleSeconds, r.gflopsPaper,
                     formatCount(r.paperCycleFlops), r.gflopsEngine))
    }
}

func jsonObject<T: Encodable>(_ v: T) throws -> [String: Any] {
    let enc = JSONEncoder()
    enc.keyEncodingStrategy = .convertToSnakeCase
    return try JSONSerialization.jsonObject(with: try enc.encode(v)) as! [String: Any]
}
