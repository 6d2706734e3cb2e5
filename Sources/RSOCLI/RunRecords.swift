/// The start and end records of a run's metrics file, shared by `rso train` and `rso sgd`; each is
/// written as a CountedRecord with the trainer's own counters beside its fields.
struct StartRecord<Options: Encodable>: Encodable {
    var options: Options
    var threads: Int
    var trainSamples: Int
    var testSamples: Int
    var resumedFrom: String?
}

struct EndRecord: Encodable {
    /// finished, trial-limit or step-limit, interrupted, non-finite-loss or error.
    var reason: String
    /// What went wrong (non-finite-loss, error).
    var error: String?
    /// The stop signal, when interrupted by one.
    var signal: Int32?
    var elapsed: Double
    var peakResidentBytes: Int
    var testAccuracy: Double?
    var testLoss: Double?
}

/// A metrics record with the trainer's own counters (rso train: trials per cycle, trials, cycle;
/// rso sgd: iterations per epoch, updates, and cycle = updates) as top-level fields of the same
/// JSON object, so the records keep their flat keys (MetricsWriter writes every key snake_case).
struct CountedRecord<Record: Encodable>: Encodable {
    var record: Record
    var counters: KeyValuePairs<String, Int>

    init(_ record: Record, counters: KeyValuePairs<String, Int>) {
        self.record = record
        self.counters = counters
    }

    func encode(to encoder: Encoder) throws {
        try record.encode(to: encoder)
        var c = encoder.container(keyedBy: CounterKey.self)
        for (name, value) in counters { try c.encode(value, forKey: CounterKey(stringValue: name)) }
    }

    private struct CounterKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}

struct SGDCheckpointRecord: Encodable {
    var path: String
    var reason: String
    var updates: Int
}
