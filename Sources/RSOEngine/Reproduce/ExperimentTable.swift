/// Every experiment of the paper that `rso reproduce` runs, as data: name, paper reference, the
/// paper's numbers, and the runs with their settings at each scale.
///
/// Scales: `smoke` — batch 16, the first 40 trials (SGD: 4 iterations) on the first 512 training and
/// 256 test images, seconds per experiment; `quick` — batch 100 (the paper's 5000 is hours per
/// cycle here), whole cycles, estimated at ≤ 30 min per experiment on 2 cores; `paper` — the
/// paper's batch 5000 and schedule. Quick estimates rest on docs/performance.md and
/// docs/results.md: one mnist6 cycle at batch 100 takes 3m12s with incremental trials (quiet
/// machine), cifar-depth5 one cycle 12 min (loaded machine); they are estimates, not measurements.
/// Paper-scale projections (docs/results.md, "Paper scale: projected wall time") multiply measured
/// batch-5000 step and cycle times by the schedule; a 64-core node is projected at ideal chunk
/// scaling (157 chunks of a 5000-sample batch in 3 rounds on 64 workers against 79 on 2: ÷ 26.3).
public enum ExperimentTable {
    public static let all: [Experiment] = [
        mnistAccuracy, samplingLevels, cifarDepth, updateSchemes, sigmaRobustness, caching, rsoVsSGD,
    ]

    public static func experiment(named name: String) -> Experiment? { all.first { $0.name == name } }

    // MARK: - Scale settings

    /// Trials of a smoke run (RSO) and iterations of a smoke SGD run.
    static let smokeTrials = 40, smokeSteps = 4
    static let smokeBatch = 16, smokeTrain = 512, smokeTest = 256
    static let quickBatch = 100
    static let paperBatch = 5000, paperCycles = 50

    /// An RSO run of `net` at `scale`: `quickCycles` / `paperCycles` whole cycles (smoke: the first
    /// `smokeTrials` trials of one cycle), `configure` sets what the experiment varies.
    static func rso(_ name: String, _ label: String, net: String, data: ReproduceDataset, scale: ReproduceScale,
                    quickCycles: Int, quickBatch: Int = quickBatch, quickTrialLimit: Int? = nil,
                    paperCycles: Int = paperCycles, paperTrialLimit: Int? = nil,
                    configure: (inout TrainingOptions) -> Void = { _ in }) -> ReproduceRun {
        var o = TrainingOptions(net: net)
        var limit: Int?
        var train: Int?, test: Int?
        switch scale {
        case .smoke:
            o.batch = smokeBatch
            o.cycles = 1
            o.bnSamples = smokeTest
            limit = smokeTrials
            train = smokeTrain
            test = smokeTest
        case .quick:
            o.batch = quickBatch
            o.cycles = quickCycles
            limit = quickTrialLimit
        case .paper:
            o.batch = paperBatch
            o.cycles = paperCycles
            limit = paperTrialLimit
        }
        configure(&o)
        return ReproduceRun(name: name, label: label, dataset: data, rso: o, trialLimit: limit,
                            trainSamples: train, testSamples: test)
    }

    // MARK: - Experiments

    static let mnistAccuracy = Experiment(
        name: "mnist-accuracy", reference: "Table 1, Fig. 3 (left)",
        summary: "mnist6 on MNIST, batch 5000, 50 cycles: test accuracy after every cycle.",
        claims: [PaperClaim("mnist6 test accuracy after 5 cycles", "98%", run: "mnist6", atUpdates: 5),
                 PaperClaim("mnist6 test accuracy after 50 cycles", "99.12%", run: "mnist6", atUpdates: 50)],
        quickEstimate: "≈ 16 min: 5 cycles of mnist6 at batch 100 (3.2 min per cycle)",
        paperEstimate: "≈ 38.5 h here (50 × 46m13s, the measured batch-5000 cycle with cache builds and evaluation); ≈ 1.5 h on one 64-core node",
        runs: { scale in
            [rso("mnist6", "RSO mnist6", net: "mnist6", data: .mnist, scale: scale, quickCycles: 5)]
        })

    /// Trials in one cycle of `net` at `level`: every weight, BN γ/β and bias once (weight level),
    /// one trial per weight (layer and network levels).
    static func trialsPerCycle(_ net: NetworkSpec, _ level: SamplingLevel) -> Int {
        switch level {
        case .weight:
            let plan = VisitPlan(network: net, order: .outputMajor)
            return net.layers.indices.reduce(0) { $0 + plan.slotCount(layer: $1) }
        case .layer, .network:
            return net.weightCount
        }
    }

    /// Equal step counts: the paper's 500K steps are 41.6 mnist6 cycles of 12,026 trials at the
    /// weight level (42 cycles) and 42.3 of 11,824 at the layer and network levels (43 cycles),
    /// every run stopped at trial 500,000. Quick: every level stops at 11,824 trials (one layer-
    /// or network-level cycle; the weight level's last 202 conv1 slots are left out).
    static let samplingLevels = Experiment(
        name: "sampling-levels", reference: "Table 2, Fig. 2",
        summary: "Weight-, layer- and network-level sampling at equal step counts (paper: 500K steps); layer and network levels perturb with Δ ~ N(0, σ_d/10).",
        claims: [PaperClaim("ordering of test accuracy at equal steps", "weight ≫ layer > network")],
        quickEstimate: "≈ 15 min: 11,824 steps (about one cycle) per level at batch 100; a layer or network step is one full forward",
        paperEstimate: "≈ 310 h here: weight level 32 h (500,000 trials = 41.6 cycles of 46m13s), network level 139 h (500,000 steps of ≈ 1.0 s, measured), layer level at most the same; ≈ 12 h on one 64-core node",
        paperSettingNotes: ["mnist6 on MNIST at batch 5000 (the paper's batch); 42 cycles (weight level) or 43 (layer, network levels: fewer trials per cycle) for the σ schedule, every run stopped at 500,000 steps"],
        runs: { scale in
            let net = NetworkZoo.mnist6()
            let steps = 500_000
            return SamplingLevel.allCases.map { level in
                let perCycle = trialsPerCycle(net, level)
                return rso(level.rawValue, "\(level.rawValue) sampling", net: "mnist6", data: .mnist, scale: scale,
                           quickCycles: 1, quickTrialLimit: net.weightCount,
                           paperCycles: (steps + perCycle - 1) / perCycle, paperTrialLimit: steps) { $0.sampling = level }
            }
        })

    static let cifarDepth = Experiment(
        name: "cifar-depth", reference: "Table 3",
        summary: "Depth-3, Depth-5 and Depth-10 networks on CIFAR-10.",
        claims: [PaperClaim("Depth-3 test accuracy", "56.30%", run: "depth3"),
                 PaperClaim("Depth-5 test accuracy", "68.48%", run: "depth5"),
                 PaperClaim("Depth-10 test accuracy", "81.8%", run: "depth10")],
        quickEstimate: "≈ 30 min: 1 cycle each at batch 100 (Depth-3 ≈ 3 min, Depth-5 ≈ 12 min) and Depth-10 at batch 32 (≈ 15 min)",
        paperEstimate: "≈ 600 h here (50 cycles each; projected cycles Depth-3 43m01s, Depth-5 1h04m36s, Depth-10 10h16m from `rso bench trial`); ≈ 23 h on one 64-core node",
        paperSettingNotes: ["batch 5000 and 50 cycles, the paper's MNIST schedule: the CIFAR cycle count is not restated in the issue; check it against the paper before a paper-scale run"],
        runs: { scale in
            [rso("depth3", "Depth-3", net: "cifar-depth3", data: .cifar10, scale: scale, quickCycles: 1),
             rso("depth5", "Depth-5", net: "cifar-depth5", data: .cifar10, scale: scale, quickCycles: 1),
             rso("depth10", "Depth-10", net: "cifar-depth10", data: .cifar10, scale: scale, quickCycles: 1, quickBatch: 32)]
        })

    static let updateSchemes = Experiment(
        name: "update-schemes", reference: "Fig. 4",
        summary: "Sequential vs neuron-parallel vs layer-parallel updates, on MNIST (mnist6) and CIFAR-10.",
        claims: [PaperClaim("ordering of test accuracy", "sequential ≥ neuron-parallel, layer-parallel")],
        quickEstimate: "≈ 25 min: 1 mnist6 cycle at batch 100 (≈ 3–5 min) and 1 Depth-3 cycle at batch 100 (≈ 3 min) per scheme",
        paperEstimate: "≈ 1,650 h here (3 × 50 mnist6 cycles of 46m13s, 3 × 50 Depth-10 cycles of 10h16m; a parallel scheme assumed to cost a sequential cycle); ≈ 63 h on one 64-core node",
        paperSettingNotes: ["CIFAR-10 half on Depth-10 (the paper's main CIFAR network), batch 5000, 50 cycles; the network is not restated in the issue"],
        runs: { scale in
            UpdateScheme.allCases.flatMap { scheme in
                [rso("mnist-\(scheme.rawValue)", "MNIST \(scheme.rawValue)", net: "mnist6", data: .mnist, scale: scale,
                     quickCycles: 1) { $0.update = scheme },
                 rso("cifar-\(scheme.rawValue)", "CIFAR-10 \(scheme.rawValue)",
                     net: scale == .paper ? "cifar-depth10" : "cifar-depth3", data: .cifar10, scale: scale,
                     quickCycles: 1) { $0.update = scheme }]
            }
        })

    static let sigmaScales = [0.1, 0.3, 1, 3, 10]

    static let sigmaRobustness = Experiment(
        name: "sigma-robustness", reference: "§4.1",
        summary: "Initial σ scaled by 0.1, 0.3, 1, 3 and 10 (σ_d = std of layer d's initial weights), mnist6 on MNIST.",
        claims: [PaperClaim("final accuracy over initial σ from 0.1σ_d to 10σ_d", "robust (close for every scale)")],
        quickEstimate: "≈ 16 min: 1 mnist6 cycle at batch 100 per scale",
        paperEstimate: "≈ 193 h here (5 × 50 mnist6 cycles of 46m13s); ≈ 7.3 h on one 64-core node",
        paperSettingNotes: ["mnist6 at batch 5000, 50 cycles (the paper's MNIST schedule)"],
        runs: { scale in
            sigmaScales.map { s in
                rso("sigma-x\(s.shortText)", "σ × \(s.shortText)", net: "mnist6", data: .mnist, scale: scale,
                    quickCycles: 1) { $0.sigmaScale = s }
            }
        })

    /// Cycle cost with and without the activation cache, and with the incremental trials.
    static let cachingVariants: [(name: String, label: String, cache: Bool, path: EvaluationPath)] = [
        ("uncached-full", "no cache, full", false, .full),
        ("cached-full", "cache, full", true, .full),
        ("cached-incremental", "cache, incremental", true, .incremental),
    ]

    static let caching = Experiment(
        name: "caching", reference: "§4.7",
        summary: "FLOPs (the paper's cost model) and measured time per cycle without caching, with caching, and with the engine's incremental trials, per network.",
        claims: [PaperClaim("FLOP reduction of caching", "3.0× and 3.5× (the paper's two networks)")],
        quickEstimate: "≈ 25 min: 1 cycle at batch 100 per variant, mnist6 (≈ 3–8 min each) and Depth-3 (≈ 1–3 min each)",
        paperEstimate: "≈ 60 h here: mnist6 3.6 h (1h43m uncached, 1h07m cached, 46m13s incremental), Depth-10 ≈ 56 h (10h16m incremental measured; ≈ 16 h cached and ≈ 30 h uncached estimated from their FLOP counts at mnist6's rates); ≈ 2.3 h on one 64-core node",
        paperSettingNotes: ["one cycle per variant at batch 5000, mnist6 and Depth-10"],
        runs: { scale in
            let nets: [(String, ReproduceDataset)] = [("mnist6", .mnist), (scale == .paper ? "cifar-depth10" : "cifar-depth3", .cifar10)]
            return nets.flatMap { net, data in
                cachingVariants.map { v in
                    rso("\(net)-\(v.name)", "\(net) \(v.label)", net: net, data: data, scale: scale, quickCycles: 1,
                        paperCycles: 1) { $0.cache = v.cache; $0.evaluation = v.path }
                }
            }
        })

    /// The SGD half: the paper's MNIST setting (batch 5000, lr 0.5, 5 warm-up epochs, < 600 steps).
    static func sgd(scale: ReproduceScale) -> ReproduceRun {
        var o = SGDOptions(net: "mnist6")
        var train: Int?, test: Int?
        var evalEvery = 30
        switch scale {
        case .smoke:
            o.batch = smokeBatch
            o.steps = smokeSteps
            o.warmupSteps = 2
            o.bnSamples = smokeTest
            train = smokeTrain
            test = smokeTest
            evalEvery = 2
        case .quick:
            // 10 epochs at batch 500: 1,200 iterations, the same 5-epoch warm-up.
            o.batch = 500
            o.steps = 1200
            o.warmupSteps = 600
            evalEvery = 60
        case .paper:
            o.batch = 5000
            o.steps = 600
            o.warmupSteps = 60
        }
        o.learningRate = 0.5
        return ReproduceRun(name: "sgd", label: "SGD (back-propagation)", dataset: .mnist, sgd: o,
                            trainSamples: train, testSamples: test, evalEvery: evalEvery)
    }

    static let rsoVsSGD = Experiment(
        name: "rso-vs-sgd", reference: "Fig. 3",
        summary: "mnist6 on MNIST: test accuracy against the number of times all weights were updated (RSO cycles, SGD iterations).",
        claims: [PaperClaim("RSO after 5 / 50 cycles", "98% / 99.12%", run: "rso"),
                 PaperClaim("SGD (batch 5000, lr 0.5, 5 warm-up epochs)", "99.12% in fewer than 600 iterations", run: "sgd")],
        quickEstimate: "≈ 25 min: RSO 3 cycles at batch 100 (≈ 10 min) and SGD 1,200 iterations at batch 500 (≈ 12 min)",
        paperEstimate: "≈ 38.7 h here (RSO 50 × 46m13s; SGD 600 iterations of 1.16 s, measured, plus evaluations); ≈ 1.5 h on one 64-core node",
        paperSettingNotes: ["SGD: constant learning rate after the warm-up (the paper names no decay), no momentum, 600 iterations"],
        runs: { scale in
            [rso("rso", "RSO", net: "mnist6", data: .mnist, scale: scale, quickCycles: 3), sgd(scale: scale)]
        })
}

extension Double {
    /// 0.1 → "0.1", 3 → "3": how a σ scale is written in run names.
    var shortText: String {
        self == rounded() ? String(Int(self)) : String(self)
    }
}
