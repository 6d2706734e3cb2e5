/// How big an experiment's runs are: `smoke` checks the plumbing in seconds (CI), `quick` fits in
/// about 30 minutes per experiment on 2 cores, `paper` is the paper's own setting.
public enum ReproduceScale: String, Codable, CaseIterable, Sendable {
    case smoke, quick, paper
}

/// The dataset a run trains on, as found under the data root (`mnist/`, `cifar-10-batches-bin/`).
public enum ReproduceDataset: String, Codable, Sendable {
    case mnist
    case cifar10 = "cifar-10"
}

/// One run of an experiment at one scale: everything that decides its result.
public struct ReproduceRun: Codable, Equatable, Sendable {
    /// Directory name under the experiment's (e.g. "sigma-x0.1").
    public var name: String
    /// Legend label in the report and plots.
    public var label: String
    public var dataset: ReproduceDataset
    /// RSO options (run through the run controller), or nil for an SGD run.
    public var rso: TrainingOptions?
    /// RSO: end the run after this many trials in all (its last evaluation happens there) when
    /// that is shorter than `rso.cycles`.
    public var trialLimit: Int?
    /// Back-propagation SGD options, or nil for an RSO run.
    public var sgd: SGDOptions?
    /// Train on the first N training images only (smoke scale); nil: all of them.
    public var trainSamples: Int?
    /// Evaluate on the first N test images only (smoke scale); nil: all of them.
    public var testSamples: Int?
    /// RSO: evaluate every N cycles; SGD: every N iterations (both also at the end).
    public var evalEvery: Int

    public init(name: String, label: String, dataset: ReproduceDataset, rso: TrainingOptions? = nil,
                trialLimit: Int? = nil, sgd: SGDOptions? = nil, trainSamples: Int? = nil, testSamples: Int? = nil,
                evalEvery: Int = 1) {
        precondition((rso == nil) != (sgd == nil), "a run is RSO or SGD")
        self.name = name
        self.label = label
        self.dataset = dataset
        self.rso = rso
        self.trialLimit = trialLimit
        self.sgd = sgd
        self.trainSamples = trainSamples
        self.testSamples = testSamples
        self.evalEvery = evalEvery
    }

    public var net: String { rso?.net ?? sgd?.net ?? "" }
}

/// A number (or an ordering) the paper reports, to be set next to the measured one.
public struct PaperClaim: Codable, Equatable, Sendable {
    /// What it is, e.g. "mnist6 test accuracy after 50 cycles".
    public var what: String
    /// As the paper gives it, e.g. "99.12%" or "weight ≫ layer > network".
    public var value: String
    /// The run whose final test accuracy is the measured counterpart; nil when the report reads
    /// the claim off several runs (an ordering, a ratio).
    public var run: String?
    /// When the claim is about a point of the curve (e.g. "after 5 cycles"): the number of updates
    /// of all weights it is read at; nil reads the run's final evaluation.
    public var atUpdates: Double?

    public init(_ what: String, _ value: String, run: String? = nil, atUpdates: Double? = nil) {
        self.what = what
        self.value = value
        self.run = run
        self.atUpdates = atUpdates
    }
}

/// One table or figure of the paper as a named, resumable set of runs.
public struct Experiment: Sendable {
    public var name: String
    /// Where in the paper, e.g. "Table 1, Fig. 3 (left)".
    public var reference: String
    public var summary: String
    public var claims: [PaperClaim]
    /// Estimated wall time of the `quick` scale on 2 cores, and what the estimate rests on.
    public var quickEstimate: String
    /// Projected wall time of the `paper` scale on 2 cores and on one 64-core node, and what it
    /// rests on (measured batch-5000 times, docs/results.md).
    public var paperEstimate: String
    /// Settings of the paper-scale runs that the paper does not state and were chosen here.
    public var paperSettingNotes: [String]
    /// The runs at each scale.
    public var runs: @Sendable (ReproduceScale) -> [ReproduceRun]

    public init(name: String, reference: String, summary: String, claims: [PaperClaim], quickEstimate: String,
                paperEstimate: String, paperSettingNotes: [String] = [], runs: @escaping @Sendable (ReproduceScale) -> [ReproduceRun]) {
        self.name = name
        self.reference = reference
        self.summary = summary
        self.claims = claims
        self.quickEstimate = quickEstimate
        self.paperEstimate = paperEstimate
        self.paperSettingNotes = paperSettingNotes
        self.runs = runs
    }
}
