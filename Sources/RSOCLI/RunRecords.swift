/// The start and end records of a run's metrics file, shared by `rso train` and `rso sgd`. The
/// trainer's own counters (RSO: trials per cycle, trials; SGD: iterations per epoch, updates) are
/// written as top-level fields of the same JSON object, so the records keep their flat keys
/// (MetricsWriter writes every key snake_case).
struct StartRecord<Options: Encodable>: Encodable {
    var options: Options
    var threads: Int
    var trainSamples: Int
    var testSamples: Int
    var resumedFrom: String?
    /// rso train: trialsPerCycle, startTrials; rso sgd: stepsPerEpoch, startUpdates.
    var counters: KeyValuePairs<String, Int>

    private enum CodingKeys: String, CodingKey { case options, threads, trainSamples, testSamples, resumedFrom }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(options, forKey: .options)
        try c.encode(threads, forKey: .threads)
        try c.encode(trainSamples, forKey: .trainSamples)
        try c.encode(testSamples, forKey: .testSamples)
        try c.encodeIfPresent(resumedFrom, forKey: .resumedFrom)
        try CounterKey.encode(counters, to: encoder)
    }
}

struct EndRecord: Encodable {
    /// finished, trial-limit or step-limit, interrupted, non-finite-loss or error.
    var reason: String
    /// What went wrong (non-finite-loss, error).
    var error: String?
    /// The stop signal, when interrupted by one.
    var signal: Int32?
    /// rso train: trials, cycle; rso sgd: updates, and cycle = updates (tools read either record).
    var counters: KeyValuePairs<String, Int>
    var elapsed: Double
    var peakResidentBytes: Int
    var testAccuracy: Double?
    var testLoss: Double?

    private enum CodingKeys: String, CodingKey { case reason, error, signal, elapsed, peakResidentBytes, testAccuracy, testLoss }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(reason, forKey: .reason)
        try c.encodeIfPresent(error, forKey: .error)
        try c.encodeIfPresent(signal, forKey: .signal)
        try c.encode(elapsed, forKey: .elapsed)
        try c.encode(peakResidentBytes, forKey: .peakResidentBytes)
        try c.encodeIfPresent(testAccuracy, forKey: .testAccuracy)
        try c.encodeIfPresent(testLoss, forKey: .testLoss)
        try CounterKey.encode(counters, to: encoder)
    }
}

/// A counter's name as a key of the record's JSON object.
private struct CounterKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }

    static func encode(_ counters: KeyValuePairs<String, Int>, to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CounterKey.self)
        for (name, value) in counters { try c.encode(value, forKey: CounterKey(stringValue: name)) }
    }
}

struct SGDCheckpointRecord: Encodable {
    var path: String
    var reason: String
    var updates: Int
}
